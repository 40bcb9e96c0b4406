#include "sim/serving/kv_block_manager.hpp"

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
}

void KvBlockManager::release(std::int64_t n) {
  if (n < 0 || n > used_)
    throw std::logic_error("KvBlockManager: release " + std::to_string(n) + " with " + std::to_string(used_) + " used");
  used_ -= n;
}

void KvBlockManager::resize(std::int64_t capacity) {
  if (capacity < used_) throw std::logic_error("KvBlockManager: resize below used blocks");
  capacity_ = capacity;
}

}  // namespace kunsim
