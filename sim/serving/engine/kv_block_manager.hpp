// KvBlockManager: the paged KV cache of one instance, as a count of fixed-size blocks, and the
// prefix cache over them (PrefixCache). It only accounts (which request holds how many private
// blocks lives in Request); scheduling decides what to do when blocks run out.
//
// Memory accounting follows vLLM's prefix caching. `used` counts the blocks someone holds:
// private blocks and cached prefix blocks in use. Cached blocks nobody holds are evictable: they
// occupy memory but count as free (for admission, the watermark and every policy's KV usage),
// and an allocation that needs their room evicts the least recently used first.
// Invariant, asserted: 0 <= used and used + evictable <= capacity, always.
#pragma once
#include <cstdint>

#include "sim/serving/engine/load_watch.hpp"
#include "sim/serving/engine/request.hpp"
#include "sim/serving/prefix/prefix_cache.hpp"

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
  // Private blocks (evicting cached prefixes nobody holds when their room is needed).
  void allocate(std::int64_t n);
  void release(std::int64_t n);
  // Grows or shrinks the pool (memory handed over by dropped weights, or taken back), evicting
  // cached prefixes where they no longer fit; shrinking below what is used is a broken rule.
  void resize(std::int64_t capacity);

  // Tells `w` (when set) of every change to used or capacity, as engine `engine_id`'s.
  void watch(LoadWatch* w, int engine_id) {
    watch_ = w;
    watch_id_ = engine_id;
  }

  // The prefix cache: look-ups, and holding or letting go of a leading run of prefix keys.
  const PrefixCache& prefixes() const { return cache_; }
  // Cached blocks nobody holds (evictable).
  std::int64_t cached() const { return cache_.evictable(); }
  // Returns the blocks created (new entries) by holding keys[0, n).
  std::int64_t hold_prefix(const std::uint64_t* keys, int n, int blocks_per_key, std::uint64_t salt);
  // Returns the blocks freed (salted entries) or made evictable by letting go of keys[0, n).
  std::int64_t let_go_prefix(const std::uint64_t* keys, int n, std::uint64_t salt);
  // Lists the cached prefixes in a cluster's directory under `owner` (detach: withdraws them).
  void attach_directory(PrefixDirectory* d, int owner) { cache_.attach(d, owner); }
  void detach_directory() { cache_.detach(); }
  // Leading prefix keys of waiting request `r` cached here, leaving at least its last token to
  // compute (vLLM's rule: the prefill must sample one).
  int prefix_hits(const Request& r, int block_size) const;
  // Blocks that admitting `r` takes from the free ones: its uncached blocks, and its cached ones
  // that nobody holds now (they stop being evictable). Without prefix identity: all its blocks.
  std::int64_t blocks_to_admit(const Request& r, int block_size) const;
  // Blocks that holding r's first `keys` prefix keys takes from the free ones here (missing
  // entries, and evictable ones made used).
  std::int64_t blocks_to_hold(const Request& r, int keys) const;

 private:
  void make_room();  // evicts until used + evictable <= capacity
  void changed() const {
    if (watch_) watch_->load_changed(watch_id_);
  }
  LoadWatch* watch_ = nullptr;
  int watch_id_ = -1;
  std::int64_t capacity_;
  std::int64_t used_ = 0;
  std::int64_t peak_ = 0;
  PrefixCache cache_;
};

}  // namespace kunsim
