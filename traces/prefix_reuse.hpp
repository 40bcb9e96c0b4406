// PrefixReuse: how much a trace's prompts reuse earlier prefixes, as an ideal cache sees it.
// Fed every request of a stream with prefix identity (traces/prefix_keys.hpp):
//   - hit_rate: the share of prompt tokens in hash blocks some earlier request already had (an
//     infinite prefix cache's hit rate: an upper bound for any real one);
//   - reuse distance: for each such block, the distinct hash blocks touched since it was last
//     used, in tokens (an LRU cache of that many tokens still holds it: the cache size a planner
//     needs for a given hit rate);
//   - the share of requests whose first hash block was seen before (continuing a conversation or
//     a shared start), and how many requests back that was.
// From these it fits PrefixSharing parameters, so a profile replays the trace's reuse.
#pragma once
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "traces/arrival_source.hpp"
#include "traces/prefix_sharing.hpp"

namespace kunsim {

struct PrefixReuse {
  std::int64_t requests = 0;  // with prefix identity
  int hash_block_tokens = 0;
  std::int64_t prompt_tokens = 0, hit_tokens = 0;
  double hit_rate = 0;
  double continued_share = 0;                    // requests whose first hash block was seen
  double requests_back_p50 = 0;                  // how far back that was, in requests
  std::vector<double> distance_tokens;           // reuse distance p10, p50, p90, p99
  // An LRU cache of these many tokens would hit these shares of prompt tokens.
  std::vector<std::pair<double, double>> hit_rate_by_cache_tokens;

  Json to_json() const;
  // Parameters with which a stream of these prompt and output lengths (quantiles) reuses about
  // as much: conversations (session_turns, open_sessions), calibrated by drawing such streams,
  // since a turn continues a conversation only where one is shorter than its prompt. Shared
  // system prompts and documents are not told apart from conversations in a trace's hashes,
  // and are left out.
  PrefixSharing fitted_sharing(const std::vector<double>& input_quantiles, const std::vector<double>& output_quantiles) const;
};

class PrefixReuseMeter {
 public:
  void add(const TraceRequest& r);
  // Empty when no request had prefix identity.
  std::optional<PrefixReuse> result() const;

 private:
  void mark(std::int64_t i, int d);
  std::int64_t marked_after(std::int64_t i) const;  // marks at positions > i
  std::int64_t requests_ = 0, prompt_tokens_ = 0, hit_blocks_ = 0, continued_ = 0;
  int block_tokens_ = 0;
  std::int64_t accesses_ = 0, live_ = 0;
  std::vector<std::int32_t> fenwick_;  // 1 at each key's latest access
  std::unordered_map<std::uint64_t, std::pair<std::int64_t, std::int64_t>> last_;  // key -> (access, request)
  std::vector<std::int64_t> distances_;  // in blocks, per hit block
  std::vector<std::int64_t> back_;       // requests back, per continued request
};

}  // namespace kunsim
