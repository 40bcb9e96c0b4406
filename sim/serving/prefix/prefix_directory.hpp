// PrefixDirectory: which instances have each prefix key cached, so a cache-aware dispatcher
// finds every instance's cached share of a prompt with one look-up per key instead of probing
// each instance's cache (SGLang's router keeps such a global tree for the same reason). Each
// instance's PrefixCache keeps it current as entries come and go; a retired instance withdraws
// all of its keys. Home copies of a pipeline group's stale requests are not listed: no new
// request can use them.
//
// A key is held by one or two instances as a rule (a conversation's turns go where its prefix
// is), so its holders live inline in the entry, not in a vector of their own: at 16-token hash
// blocks a run adds and removes millions of keys, and an allocation each was a fifth of it.
#pragma once
#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <span>
#include <unordered_map>

namespace kunsim {

class PrefixDirectory {
 public:
  void add(std::uint64_t key, int instance) {
    if (!closed_) map_[key].push_back(instance);
  }
  void remove(std::uint64_t key, int instance) {
    if (closed_) return;
    auto it = map_.find(key);
    if (it == map_.end()) return;
    auto& v = it->second;
    v.erase(std::find(v.begin(), v.end(), instance));
    if (v.empty()) map_.erase(it);
  }
  // The instances that have `key` cached (empty: none).
  std::span<const int> holders(std::uint64_t key) const {
    auto it = map_.find(key);
    return it == map_.end() ? std::span<const int>{} : std::span<const int>(it->second.data(), it->second.size());
  }
  // The cluster is being torn down: its instances need not withdraw their keys one by one.
  void close() {
    closed_ = true;
    map_.clear();
  }

 private:
  std::unordered_map<std::uint64_t, boost::container::small_vector<int, 2>> map_;
  bool closed_ = false;
};

}  // namespace kunsim
