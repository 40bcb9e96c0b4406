// Engine, continued: automatic prefix caching. A request holds a leading run of its prefix
// keys in the instance's PrefixCache (Request::cached_keys) instead of private blocks: found
// there when it is admitted (its prefill starts after them), or cached by its own prefill as
// each hash block completes. Every way a request leaves an instance lets go of them.
#include <algorithm>
#include <unordered_map>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

std::int64_t Engine::hold_prefix(Request* r) {
  if (r->cached_keys == 0) return 0;
  return kv_.hold_prefix(r->prefix.data(), r->cached_keys, r->prefix_unit, prefix_salt(*r));
}

void Engine::let_go_prefix(Request* r) {
  if (r->cached_keys == 0) return;
  const std::uint64_t salt = prefix_salt(*r);
  const std::int64_t gone = kv_.let_go_prefix(r->prefix.data(), r->cached_keys, salt);
  // A home's copies of shared prefixes count as its stale KV (ServingCluster::Joining).
  if (salt) members_[r->home].stale_blocks -= gone;
}

void Engine::admit_prefix(Request* r) {
  const int bs = ctx_.engine->block_size;
  r->cached_keys = kv_.prefix_hits(*r, bs);
  hold_prefix(r);
  const std::int64_t hit_blocks = r->cached_blocks();
  r->prefilled = static_cast<int>(hit_blocks * bs);
  counters_.prefix_hit_tokens += r->prefilled;
  counters_.prefix_hit_blocks += hit_blocks;
}

void Engine::cache_prefilled(Request* r) {
  // An instance group with caching off never caches, so its cache stays empty and never hits.
  if (r->prefix.empty() || r->stale() || !ctx_.engine->enable_prefix_caching) return;
  const std::int64_t unit_tokens = std::int64_t{r->prefix_unit} * ctx_.engine->block_size;
  const auto full = static_cast<int>(std::min<std::int64_t>(static_cast<std::int64_t>(r->prefix.size()),
                                                            r->prefilled / unit_tokens));
  if (full <= r->cached_keys) return;
  // Its own blocks become the cache's: new entries take them over one for one; a key someone
  // else cached meanwhile is shared and its copy freed.
  const int n = full - r->cached_keys;
  const std::int64_t blocks = std::int64_t{n} * r->prefix_unit;
  r->blocks -= blocks;
  kv_.release(blocks);
  kv_.hold_prefix(r->prefix.data() + r->cached_keys, n, r->prefix_unit, 0);
  r->cached_keys = full;
}

void Engine::check_prefix_holders() const {
  std::unordered_map<std::uint64_t, int> holders;
  auto count = [&](const Request* r) {
    for (int k = 0; k < r->cached_keys; ++k) ++holders[PrefixCache::salted(r->prefix[k], prefix_salt(*r))];
  };
  for (const Request* r = running_.front(); r; r = r->next) count(r);
  // A prefilled request awaiting its hand-off holds its keys until HandoffEnd::hand_over.
  for (const auto& [id, r] : handing_off_) count(r);
  kv_.prefixes().check_holders(holders);
}

}  // namespace kunsim
