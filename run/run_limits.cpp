#include "run/run_limits.hpp"

#include "sim/core/input_error.hpp"
#include "sim/core/rng.hpp"

namespace kunsim {

void check_run_limits(const Scenario& sc, bool force) {
  if (force) return;
  const std::optional<double> n = expected_requests(sc.workload);
  if (n && *n > kMaxGeneratedRequests)
    throw InputError("workload: about " + format_number(*n) + " requests would be generated (rate x duration" +
                     (sc.workload.rate_scale != 1 ? " x rate_scale" : "") + "), past the limit of " +
                     format_number(kMaxGeneratedRequests) +
                     "; set workload.max_requests or a shorter duration, or give --force if you mean it");
}

std::int64_t check_scenario(const Scenario& sc, bool force) {
  check_run_limits(sc, force);
  const WorkloadCheck w = check_workload(sc.workload, Rng(sc.seed).fork(kArrivalStream));
  if (sc.max_time_s && w.first_arrival >= at_seconds(*sc.max_time_s))
    throw InputError(no_arrival_message(*sc.max_time_s, w.first_arrival));
  return w.requests;
}

std::string no_arrival_message(double max_time_s, SimTime first_arrival) {
  return "sim.max_time_s: the run stops at " + format_number(max_time_s) + " s, before the first request arrives at " +
         format_number(ns_to_seconds(first_arrival)) + " s: nothing was measured";
}

}  // namespace kunsim
