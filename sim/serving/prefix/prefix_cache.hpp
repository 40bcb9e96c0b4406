// PrefixCache: the hashed, reference-counted KV blocks of one instance's automatic prefix
// caching (vLLM's APC, SGLang's radix cache). An entry is one prefix key: a chain hash of every
// prompt token up to the end of one hash block (Request::prefix), so equal keys mean equal
// prefixes and a request's cached blocks are always a leading run of its keys. An entry holds
// `blocks` KV blocks (its hash block in kunsim's blocks).
//
// Entries with holders are in use. When the last holder lets go, the entry stays cached but
// evictable, on an LRU queue; a request lets go of its keys tail first, so the end of a prompt
// is evicted before its start, as in vLLM. Entries under a non-zero `salt` are private copies
// of one pipeline member (a KunServe group's stale KV at its home): they are freed, not cached,
// when their last holder lets go.
//
// The cache only counts; KvBlockManager owns the blocks and asks it to evict.
#pragma once
#include <cstdint>
#include <unordered_map>

#include "sim/serving/prefix/prefix_directory.hpp"

namespace kunsim {

class PrefixCache {
 public:
  // Leading keys of `keys[0, n)` present (in use or evictable).
  int match(const std::uint64_t* keys, int n, std::uint64_t salt) const;
  // Blocks of the first `n` keys that are cached but evictable now (taking them makes them used).
  std::int64_t evictable_blocks_in(const std::uint64_t* keys, int n, std::uint64_t salt) const;
  // Blocks of the first `n` keys not present (what a holder of all of them must bring).
  std::int64_t missing_blocks_in(const std::uint64_t* keys, int n, int blocks_per_key, std::uint64_t salt) const;
  // Blocks of the first `n` keys whose only holder is this one (freed or made evictable if it
  // lets go).
  std::int64_t sole_blocks_in(const std::uint64_t* keys, int n, std::uint64_t salt) const;

  struct Change {
    std::int64_t created = 0;   // blocks of new entries (to allocate)
    std::int64_t revived = 0;   // blocks taken off the evictable queue
    std::int64_t idled = 0;     // blocks put on the evictable queue
    std::int64_t freed = 0;     // blocks of salted entries gone
  };
  // One more holder of keys[0, n).
  Change hold(const std::uint64_t* keys, int n, int blocks_per_key, std::uint64_t salt);
  // One holder less, tail first.
  Change let_go(const std::uint64_t* keys, int n, std::uint64_t salt);
  // Evicts least recently idled entries until at least `blocks` are freed (or none is left);
  // returns the blocks freed.
  std::int64_t evict(std::int64_t blocks);

  // Lists this cache's (unsalted) keys under `owner` in `d` from now on; detach() withdraws them.
  void attach(PrefixDirectory* d, int owner);
  void detach();

  std::int64_t evictable() const { return evictable_; }
  std::int64_t in_use() const { return in_use_; }
  std::int64_t evicted_blocks() const { return evicted_; }
  std::size_t entries() const { return map_.size(); }
  // Debug check: holder counts and block sums agree with the entries (throws logic_error).
  void check() const;
  // Debug check: every entry's holder count is what `holders` says (by salted key), and no one
  // holds a key not cached. Throws logic_error.
  void check_holders(const std::unordered_map<std::uint64_t, int>& holders) const;
  static std::uint64_t salted(std::uint64_t key, std::uint64_t salt) {
    return salt ? key ^ (salt * 0x9E3779B97F4A7C15ULL) : key;
  }

 private:
  // The LRU queue of evictable entries is linked through the entries themselves (the map's nodes
  // do not move), so idling and reviving an entry allocates nothing.
  struct Entry {
    std::int32_t holders = 0;
    std::int32_t blocks = 0;
    bool salted = false;
    std::uint64_t key = 0;   // as stored (salted)
    Entry* older = nullptr;  // its neighbours on the queue, while holders == 0
    Entry* newer = nullptr;
  };
  void queue_push(Entry* e);
  void queue_erase(Entry* e);
  std::unordered_map<std::uint64_t, Entry> map_;
  Entry* oldest_ = nullptr;  // evictable entries, the oldest evicted first
  Entry* newest_ = nullptr;
  std::size_t queued_ = 0;
  PrefixDirectory* directory_ = nullptr;
  int owner_ = -1;
  std::int64_t evictable_ = 0, in_use_ = 0, evicted_ = 0;
};

}  // namespace kunsim
