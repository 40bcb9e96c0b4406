// Workload: a scenario's `workload` section, validated up front, and the arrival stream it
// makes. Exactly one source: `trace` (a file in a registered format), `synthetic` (a rate and
// length distributions), or `profile` (a shipped or trace-stats profile replayed). Then
// `rate_scale`, a `window` of the source's timeline, `bursts` (synthetic sources) and
// `max_requests` shape it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "traces/arrival_source.hpp"
#include "traces/length_distribution.hpp"
#include "traces/prefix_sharing.hpp"
#include "traces/rate_schedule.hpp"
#include "traces/workload_profile.hpp"

namespace kunsim {

struct TracePaths {
  std::string trace_dir;     // --trace-dir or KUNSIM_TRACE_DIR; may be empty
  std::string scenario_dir;  // folder of the scenario file; may be empty
};
// The --trace-dir flag's folder, else KUNSIM_TRACE_DIR's; and the scenario's folder.
TracePaths trace_paths(const std::string& trace_dir_flag, const std::string& scenario_dir);

struct WorkloadSpec {
  enum class Kind { Trace, Synthetic, Profile } kind = Kind::Synthetic;
  // trace
  std::string trace_format, trace_path;
  // synthetic; rate is infinite for "inf" (every request at t = 0)
  double rate = 1, cv = 1, duration_s = 0;
  LengthDistribution input = LengthDistribution::fixed(512), output = LengthDistribution::fixed(128);
  // profile
  std::shared_ptr<const WorkloadProfile> profile;
  std::string profile_name;
  // shaping
  double rate_scale = 1;
  double window_start_s = 0;
  std::optional<double> window_duration_s;
  std::vector<Burst> bursts;
  std::optional<std::int64_t> max_requests;
  // Prefix identity drawn for a synthetic or profile workload (workload.sharing; a profile's own
  // when unset). Never set for a trace: it carries its own.
  std::optional<PrefixSharing> sharing;
  // Clients give up on a request not finished this long after it was sent (off when unset).
  std::optional<double> client_timeout_s;
  // Speculative decoding: this workload's per-token acceptance, over the deployment's (a trace
  // row's own `acceptance` over both).
  std::optional<double> speculative_acceptance;
  // A closed loop (vllm bench serve's --max-concurrency): at most this many requests out at once.
  std::optional<std::int64_t> max_concurrency;

  std::string describe() const;
  // How rate_scale acts on this source, for the console ("" at 1): a trace's time is compressed
  // (the same requests, sooner), a profile's or a synthetic rate is multiplied over its span
  // (more requests in the same time).
  std::string rate_scale_effect() const;
  // The input error for a workload that yielded no request: what emptied it (the trace, its
  // skipped rows, the window, the rate), naming the JSON path.
  std::string empty_message(std::int64_t skipped_rows) const;
};

// Resolves a relative trace path against paths.trace_dir, then paths.scenario_dir; the error
// names `json_path` and every place looked in.
std::string resolve_trace_path(const std::string& path, const TracePaths& paths, const std::string& json_path);

WorkloadSpec workload_from_json(const Json& j, const std::string& path, const TracePaths& paths);
std::unique_ptr<ArrivalSource> make_arrival_source(const WorkloadSpec& spec, const Rng& rng);
// The mean number of requests a synthetic or profile workload generates (its rate integrated
// over its span, capped by max_requests); nullopt for a trace, which has as many as its rows.
std::optional<double> expected_requests(const WorkloadSpec& spec);

// What `kunsim validate` checks: a trace is read to its end as a run reads it (bad rows are
// InputErrors with file:line), and any workload must yield at least one request. Returns the
// requests a trace yields (synthetic workloads: 1 when non-empty; they are not drawn out), and
// the first arrival (with the run's own `rng`, the run's own).
struct WorkloadCheck {
  std::int64_t requests = 0;
  SimTime first_arrival = kSimTimeZero;
};
WorkloadCheck check_workload(const WorkloadSpec& spec, const Rng& rng);

}  // namespace kunsim
