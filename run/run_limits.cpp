#include "run/run_limits.hpp"

#include "sim/core/input_error.hpp"

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

}  // namespace kunsim
