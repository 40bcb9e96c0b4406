#include "sim/serving/prefix/prefix_cache.hpp"

#include <stdexcept>
#include <string>

namespace kunsim {

// The keys present are prefix-closed along any chain: a holder holds a leading run, and a
// request lets go tail first, so a key is never evicted after the key before it. The leading
// run present is therefore found by bisection: log2(n) look-ups instead of n, which matters for
// a dispatcher probing every instance with a long prompt.
int PrefixCache::match(const std::uint64_t* keys, int n, std::uint64_t salt) const {
  int lo = 0, hi = n;  // keys[0, lo) present; keys[hi, n) absent
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (map_.count(salted(keys[mid], salt))) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

std::int64_t PrefixCache::evictable_blocks_in(const std::uint64_t* keys, int n, std::uint64_t salt) const {
  std::int64_t b = 0;
  for (int i = 0; i < n; ++i) {
    auto it = map_.find(salted(keys[i], salt));
    if (it != map_.end() && it->second.holders == 0) b += it->second.blocks;
  }
  return b;
}

std::int64_t PrefixCache::missing_blocks_in(const std::uint64_t* keys, int n, int blocks_per_key,
                                            std::uint64_t salt) const {
  std::int64_t b = 0;
  for (int i = 0; i < n; ++i) b += map_.count(salted(keys[i], salt)) ? 0 : blocks_per_key;
  return b;
}

std::int64_t PrefixCache::sole_blocks_in(const std::uint64_t* keys, int n, std::uint64_t salt) const {
  std::int64_t b = 0;
  for (int i = 0; i < n; ++i) {
    auto it = map_.find(salted(keys[i], salt));
    if (it != map_.end() && it->second.holders == 1) b += it->second.blocks;
  }
  return b;
}

PrefixCache::Change PrefixCache::hold(const std::uint64_t* keys, int n, int blocks_per_key, std::uint64_t salt) {
  Change c;
  for (int i = 0; i < n; ++i) {
    auto [it, created] = map_.try_emplace(salted(keys[i], salt));
    Entry& e = it->second;
    if (created) {
      e.key = it->first;
      e.blocks = blocks_per_key;
      e.salted = salt != 0;
      if (directory_ && !e.salted) directory_->add(keys[i], owner_);
      c.created += e.blocks;
      in_use_ += e.blocks;
    } else if (e.holders == 0) {
      queue_erase(&e);
      evictable_ -= e.blocks;
      in_use_ += e.blocks;
      c.revived += e.blocks;
    }
    ++e.holders;
  }
  return c;
}

PrefixCache::Change PrefixCache::let_go(const std::uint64_t* keys, int n, std::uint64_t salt) {
  Change c;
  for (int i = n; i-- > 0;) {
    auto it = map_.find(salted(keys[i], salt));
    if (it == map_.end() || it->second.holders <= 0)
      throw std::logic_error("PrefixCache: letting go of a key nobody holds");
    Entry& e = it->second;
    if (--e.holders > 0) continue;
    in_use_ -= e.blocks;
    if (e.salted) {
      c.freed += e.blocks;
      map_.erase(it);
      continue;
    }
    queue_push(&e);
    evictable_ += e.blocks;
    c.idled += e.blocks;
  }
  return c;
}

std::int64_t PrefixCache::evict(std::int64_t blocks) {
  std::int64_t freed = 0;
  while (freed < blocks && oldest_) {
    Entry* e = oldest_;
    queue_erase(e);
    freed += e->blocks;
    const std::uint64_t key = e->key;
    if (directory_) directory_->remove(key, owner_);
    map_.erase(key);
  }
  evictable_ -= freed;
  evicted_ += freed;
  return freed;
}

void PrefixCache::queue_push(Entry* e) {
  e->older = newest_;
  e->newer = nullptr;
  (newest_ ? newest_->newer : oldest_) = e;
  newest_ = e;
  ++queued_;
}

void PrefixCache::queue_erase(Entry* e) {
  (e->older ? e->older->newer : oldest_) = e->newer;
  (e->newer ? e->newer->older : newest_) = e->older;
  e->older = e->newer = nullptr;
  --queued_;
}

void PrefixCache::attach(PrefixDirectory* d, int owner) {
  detach();
  directory_ = d;
  owner_ = owner;
  for (const auto& [key, e] : map_)
    if (!e.salted) directory_->add(key, owner_);
}

void PrefixCache::detach() {
  if (!directory_) return;
  for (const auto& [key, e] : map_)
    if (!e.salted) directory_->remove(key, owner_);
  directory_ = nullptr;
}

void PrefixCache::check() const {
  std::int64_t idle = 0, used = 0;
  std::size_t idle_entries = 0;
  for (const auto& [key, e] : map_) {
    if (e.holders < 0 || e.blocks <= 0) throw std::logic_error("PrefixCache: bad entry");
    (e.holders ? used : idle) += e.blocks;
    idle_entries += e.holders == 0;
  }
  if (idle != evictable_ || used != in_use_ || idle_entries != queued_)
    throw std::logic_error("PrefixCache: " + std::to_string(used) + "/" + std::to_string(idle) +
                           " blocks in use/evictable, counted " + std::to_string(in_use_) + "/" +
                           std::to_string(evictable_));
}

}  // namespace kunsim

namespace kunsim {

void PrefixCache::check_holders(const std::unordered_map<std::uint64_t, int>& holders) const {
  check();
  for (const auto& [key, n] : holders) {
    auto it = map_.find(key);
    if (it == map_.end() || it->second.holders != n)
      throw std::logic_error("PrefixCache: a key held by " + std::to_string(n) + " requests has " +
                             (it == map_.end() ? std::string("no entry") : std::to_string(it->second.holders) + " holders"));
  }
  for (const auto& [key, e] : map_)
    if (e.holders > 0 && !holders.count(key)) throw std::logic_error("PrefixCache: an entry held by no request");
}

}  // namespace kunsim
