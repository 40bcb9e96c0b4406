#include "sim/serving/engine/kv_block_manager.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kunsim {

// These are internal rules, not user errors: a violation is a simulator bug, so it throws
// logic_error in every build type (the checks are a compare each, cheap next to the rest).
void KvBlockManager::allocate(std::int64_t n) {
  if (n < 0 || n > free())
    throw std::logic_error("KvBlockManager: allocate " + std::to_string(n) + " with " + std::to_string(free()) + " free");
  used_ += n;
  peak_ = std::max(peak_, used_);
  make_room();
  changed();
}

void KvBlockManager::release(std::int64_t n) {
  if (n < 0 || n > used_)
    throw std::logic_error("KvBlockManager: release " + std::to_string(n) + " with " + std::to_string(used_) + " used");
  used_ -= n;
  changed();
}

void KvBlockManager::resize(std::int64_t capacity) {
  if (capacity < used_) throw std::logic_error("KvBlockManager: resize below used blocks");
  capacity_ = capacity;
  make_room();
  changed();
}

void KvBlockManager::make_room() {
  const std::int64_t over = used_ + cache_.evictable() - capacity_;
  if (over > 0) cache_.evict(over);
}

std::int64_t KvBlockManager::hold_prefix(const std::uint64_t* keys, int n, int blocks_per_key, std::uint64_t salt) {
  const PrefixCache::Change c = cache_.hold(keys, n, blocks_per_key, salt);
  used_ += c.created + c.revived;
  if (used_ > capacity_)
    throw std::logic_error("KvBlockManager: holding a prefix of " + std::to_string(c.created + c.revived) +
                           " blocks overfills the pool");
  peak_ = std::max(peak_, used_);
  make_room();
  changed();
  return c.created;
}

std::int64_t KvBlockManager::let_go_prefix(const std::uint64_t* keys, int n, std::uint64_t salt) {
  const PrefixCache::Change c = cache_.let_go(keys, n, salt);
  used_ -= c.idled + c.freed;
  changed();
  return c.idled + c.freed;
}

int KvBlockManager::prefix_hits(const Request& r, int block_size) const {
  if (r.prefix.empty()) return 0;
  const std::int64_t unit_tokens = std::int64_t{r.prefix_unit} * block_size;
  const auto most = static_cast<int>(std::min<std::int64_t>(static_cast<std::int64_t>(r.prefix.size()),
                                                            (r.prefill_target - 1) / unit_tokens));
  return most > 0 ? cache_.match(r.prefix.data(), most, 0) : 0;
}

std::int64_t KvBlockManager::blocks_to_admit(const Request& r, int block_size) const {
  const std::int64_t all = r.running_blocks_for(r.prefill_target, block_size);
  if (r.prefix.empty()) return all;
  const int hits = prefix_hits(r, block_size);
  return all - std::int64_t{hits} * r.prefix_unit + cache_.evictable_blocks_in(r.prefix.data(), hits, 0);
}

std::int64_t KvBlockManager::blocks_to_hold(const Request& r, int keys) const {
  if (keys == 0) return 0;
  return cache_.missing_blocks_in(r.prefix.data(), keys, r.prefix_unit, 0) +
         cache_.evictable_blocks_in(r.prefix.data(), keys, 0);
}

}  // namespace kunsim
