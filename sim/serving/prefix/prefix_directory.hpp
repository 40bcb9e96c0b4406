// PrefixDirectory: which instances have each prefix key cached, so a cache-aware dispatcher
// finds every instance's cached share of a prompt with one look-up per key instead of probing
// each instance's cache (SGLang's router keeps such a global tree for the same reason). Each
// instance's PrefixCache keeps it current as entries come and go; a retired instance withdraws
// all of its keys. Home copies of a pipeline group's stale requests are not listed: no new
// request can use them.
#pragma once
#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace kunsim {

class PrefixDirectory {
 public:
  void add(std::uint64_t key, int instance) { map_[key].push_back(instance); }
  void remove(std::uint64_t key, int instance) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    auto& v = it->second;
    v.erase(std::find(v.begin(), v.end(), instance));
    if (v.empty()) map_.erase(it);
  }
  // The instances that have `key` cached, or nullptr.
  const std::vector<int>* holders(std::uint64_t key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }

 private:
  std::unordered_map<std::uint64_t, std::vector<int>> map_;
};

}  // namespace kunsim
