// ArrivalSource: a stream of requests in arrival order, pulled one at a time, so a trace of
// any length is never held in memory. Times are ns from the stream's start. Sources count rows
// they skip on purpose (BurstGPT failures, zero-token rows) so no request vanishes unreported.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/sim_time.hpp"

namespace kunsim {

struct TraceRequest {
  SimTime arrival = kSimTimeZero;
  int prompt = 0;
  int output = 0;
  // Prefix identity, where the source has it: keys of the prompt's full hash blocks of
  // `prefix_block_tokens` tokens each (traces/prefix_keys.hpp). Empty: none.
  std::vector<std::uint64_t> prefix;
  int prefix_block_tokens = 0;
  std::uint64_t session = 0;  // a conversation's turns share it; 0: none given
  double acceptance = -1;     // speculative decoding: the row's per-token acceptance; < 0: none given
};

class ArrivalSource {
 public:
  virtual ~ArrivalSource() = default;
  virtual std::optional<TraceRequest> next() = 0;
  virtual std::string describe() const = 0;
  // Where the last request came from, for errors: file:line for a file, else describe().
  virtual std::string where() const { return describe(); }
  virtual std::int64_t skipped() const { return 0; }
  // Synthetic lengths cut to their distribution's `max` (reported, never silent).
  virtual std::int64_t clipped() const { return 0; }
};

}  // namespace kunsim
