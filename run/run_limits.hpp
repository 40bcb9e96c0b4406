// RunLimits: how much a scenario may ask of one run before kunsim stops it at the door. A typo
// (`rate: 1e7` with `duration_s: 1e9`) or a hostile file should not fill the disk or the
// memory, so each size a run can grow with is estimated before it starts and refused (exit 2,
// with the estimate and the limit) or capped (with a message), as the README's table says.
// `--force` lifts what can be lifted, for the run that really is that big. What is refused:
//   generated requests   rate x span of a synthetic or profile workload   > 100,000,000
// What is capped (the run goes on; summary.json and the console say so):
//   timeline.csv rows    one per slot per sim.timeline_interval_s         > 2,000,000
// Sweep points, trace-stats windows and JSON documents have limits of their own, where they
// are read (whatif/sweep.hpp, traces/workload_profile.hpp, sim/core/input_file.hpp).
#pragma once
#include <cstdint>

#include "run/scenario.hpp"

namespace kunsim {

inline constexpr double kMaxGeneratedRequests = 1e8;
inline constexpr std::int64_t kMaxTimelineRows = 2'000'000;  // about 140 MB of timeline.csv

// InputError, naming the key and the estimate, when the scenario is past a refused limit and
// `force` is false.
void check_run_limits(const Scenario& scenario, bool force);

// What `kunsim validate` checks beyond parsing, each as a run would find it: the limits, the
// workload read to its end (bad rows at file:line), and a request arriving before
// sim.max_time_s. Returns the requests a trace yields (1 for generated workloads).
std::int64_t check_scenario(const Scenario& scenario, bool force);

// The Rng stream a run draws its arrivals from (Rng(seed).fork(kArrivalStream)).
inline constexpr std::uint64_t kArrivalStream = 0xA11;
// The input error of a run that stops before its first arrival (it measured nothing).
std::string no_arrival_message(double max_time_s, SimTime first_arrival);

}  // namespace kunsim
