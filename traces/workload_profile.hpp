// WorkloadProfile: a trace reduced to figures a synthetic workload can replay: arrival rate and
// inter-arrival CV per fixed window (the burstiness over time), and input/output length
// quantiles (p0..p100). `kunsim trace-stats TRACE` makes one; `workload.profile` replays one.
// Lengths are replayed independently of each other and of time: what a profile cannot carry.
// A trace with prefix identity adds its reuse and the PrefixSharing that replays it.
#pragma once
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "traces/arrival_source.hpp"
#include "traces/prefix_reuse.hpp"
#include "traces/prefix_sharing.hpp"

namespace kunsim {

struct WorkloadProfile {
  std::string source;
  std::int64_t requests = 0;
  std::int64_t skipped = 0;
  double duration_s = 0;
  double window_s = 60;
  std::vector<double> rate;  // requests/s per window
  std::vector<double> cv;    // inter-arrival CV per window (1 where too few arrivals to tell)
  std::vector<double> input_quantiles, output_quantiles;  // 101 points, p0..p100
  double input_mean = 0, output_mean = 0;
  // Traces with prefix identity: their reuse as measured (for reading), and the sharing a
  // replay draws (fitted from it; editable).
  std::optional<PrefixReuse> reuse;
  std::optional<PrefixSharing> sharing;

  double mean_rate() const { return duration_s > 0 ? static_cast<double>(requests) / duration_s : 0; }
  Json to_json() const;
  static WorkloadProfile from_json(const Json& j, const std::string& origin);
};

// Reads the whole stream once (memory: the lengths, 8 bytes a request).
// A profile holds one rate per window; past this many (a tiny --window-s over a long trace, or a
// hostile profile file) it is refused, since each window costs memory and a replayed segment.
inline constexpr std::size_t kMaxProfileWindows = 1'000'000;
// window_s must be at least 1 ms (InputError naming --window-s otherwise).
WorkloadProfile compute_profile(ArrivalSource& src, double window_s, const std::string& source_name);

// Shipped profiles (scenarios/profiles/*.json, embedded): "azure-conv", "azure-code",
// "mooncake-synthetic" (with its prefix reuse).
const WorkloadProfile* builtin_profile(const std::string& name);
std::vector<std::string> builtin_profile_names();

}  // namespace kunsim
