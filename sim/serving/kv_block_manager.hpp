// KvBlockManager: the paged KV cache of one instance, as a count of fixed-size blocks.
// It only accounts (which request holds how many blocks lives in Request); scheduling decides
// what to do when blocks run out. Invariant, asserted: 0 <= used <= capacity, always.
#pragma once
#include <cstdint>

namespace kunsim {

class KvBlockManager {
 public:
  explicit KvBlockManager(std::int64_t capacity) : capacity_(capacity) {}
  std::int64_t capacity() const { return capacity_; }
  std::int64_t used() const { return used_; }
  std::int64_t free() const { return capacity_ - used_; }
  double usage() const { return capacity_ ? static_cast<double>(used_) / static_cast<double>(capacity_) : 0.0; }
  std::int64_t peak_used() const { return peak_; }
  bool can_allocate(std::int64_t n) const { return n <= free(); }
  void allocate(std::int64_t n);
  void release(std::int64_t n);
  // Grows or shrinks the pool (memory handed over by dropped weights, or taken back);
  // shrinking below what is used is a broken rule.
  void resize(std::int64_t capacity);

 private:
  std::int64_t capacity_;
  std::int64_t used_ = 0;
  std::int64_t peak_ = 0;
};

}  // namespace kunsim
