#include "sim/cost/cost_model.hpp"

#include <cmath>

namespace kunsim {

std::int64_t DecodeRun::steps_by(SimDuration offset) const {
  if (offset <= SimDuration{}) return 0;
  // Solve slope/2 k^2 + (first - slope/2) k = offset for k, then settle the rounding exactly.
  const double a = slope_ns / 2.0, b = first_ns - slope_ns / 2.0, c = -static_cast<double>(offset.ns());
  double k = std::fabs(a) < 1e-12 ? -c / b : (-b + std::sqrt(b * b - 4 * a * c)) / (2 * a);
  auto n = static_cast<std::int64_t>(std::floor(k));
  if (n < 0) n = 0;
  while (n > 0 && elapsed(n) > offset) --n;
  while (elapsed(n + 1) <= offset) ++n;
  return n;
}

DecodeRun CostModel::decode_run(const BatchShape& s, double tokens_per_step) const {
  const double t0 = iteration(s).sum() * 1e9;
  BatchShape next = s;
  next.decode_contexts = {};  // per-request lengths would be stale; the sum carries the growth
  if (tokens_per_step == 1.0) {
    next.decode_context_sum += s.num_decodes;
    return DecodeRun{t0, iteration(next).sum() * 1e9 - t0};
  }
  // A fractional growth per step, measured over kSteps steps so that rounding the context sum
  // to whole tokens costs nothing.
  constexpr double kSteps = 64;
  next.decode_context_sum += std::llround(kSteps * tokens_per_step * s.num_decodes);
  return DecodeRun{t0, (iteration(next).sum() * 1e9 - t0) / kSteps};
}

}  // namespace kunsim
