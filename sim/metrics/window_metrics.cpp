#include "sim/metrics/window_metrics.hpp"

#include <cmath>

#include "sim/metrics/distribution.hpp"

namespace kunsim {

void WindowMetrics::on_finished(double ttft_s, double tpot_s, double e2e_s, double queue_s, bool has_tpot,
                                bool met_slo) {
  ++completed_;
  ttft_.push_back(ttft_s);
  e2e_.push_back(e2e_s);
  queue_.push_back(queue_s);
  if (has_tpot) tpot_.push_back(tpot_s);
  if (met_slo) ++met_slo_;
}

void WindowMetrics::on_token_gaps(const TokenGaps& g) {
  if (g.steps <= 0 || g.count <= 0) return;
  // Gap i is first + step i and ends at from + (i + 1) first + step i (i + 1) / 2: increasing in
  // i, since every gap is positive, so the gaps ending in [start, end) are one range [lo, hi).
  const auto from = static_cast<double>(g.from.ns());
  auto end_of = [&](std::int64_t i) {
    const auto n = static_cast<double>(i + 1);
    return from + n * g.first_ns + g.step_ns * n * (n - 1) / 2;
  };
  const auto a = static_cast<double>(w_.start.ns()), b = static_cast<double>(w_.end.ns());
  if (end_of(g.steps - 1) < a || end_of(0) >= b) return;  // the common case: all outside
  auto first_ending_at_or_after = [&](double t) {         // smallest i with end_of(i) >= t, or steps
    std::int64_t lo = 0, hi = g.steps;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo) / 2;
      if (end_of(mid) >= t)
        hi = mid;
      else
        lo = mid + 1;
    }
    return lo;
  };
  const std::int64_t lo = first_ending_at_or_after(a), hi = first_ending_at_or_after(b);
  if (hi <= lo) return;
  TokenGaps part = g;
  part.first_ns = g.first_ns + g.step_ns * static_cast<double>(lo);
  part.steps = hi - lo;
  itl_.add(part);
}

nlohmann::json WindowMetrics::to_json() const {
  nlohmann::json j;
  // Divided, not multiplied by 1e-9: 15 s stays 15, not 15.000000000000002.
  j["start_s"] = static_cast<double>(w_.start.ns()) / 1e9;
  j["duration_s"] = static_cast<double>((w_.end - w_.start).ns()) / 1e9;
  j["requests"] = {{"arrived", arrived_},
                   {"completed", completed_},
                   {"rejected", rejected_},
                   {"unfinished", unfinished_},
                   {"aborted", aborted_}};
  j["ttft_s"] = summarize(ttft_).to_json();
  j["tpot_s"] = summarize(tpot_).to_json();
  j["e2e_s"] = summarize(e2e_).to_json();
  j["queue_s"] = summarize(queue_).to_json();
  j["itl_s"] = itl_.summary().to_json();
  const double attainment = arrived_ ? static_cast<double>(met_slo_) / static_cast<double>(arrived_) : 1.0;
  j["slo"] = {{"attainment", std::round(attainment * 1e6) / 1e6}};
  j["goodput"] = {{"requests", met_slo_}};
  return j;
}

}  // namespace kunsim
