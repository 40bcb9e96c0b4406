#include "sim/metrics/distribution.hpp"

#include <algorithm>
#include <cmath>

namespace kunsim {

double quantile_sorted(const std::vector<double>& s, double q) {
  if (s.empty()) return 0;
  const double pos = q * static_cast<double>(s.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, s.size() - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
}

DistributionSummary summarize(std::vector<double> v) {
  DistributionSummary d;
  d.count = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;  // sorted order: the same sum on every run
  d.mean = sum / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - d.mean) * (x - d.mean);
  d.std = std::sqrt(sq / static_cast<double>(v.size()));
  d.min = v.front();
  d.p50 = quantile_sorted(v, 0.50);
  d.p90 = quantile_sorted(v, 0.90);
  d.p95 = quantile_sorted(v, 0.95);
  d.p99 = quantile_sorted(v, 0.99);
  d.p999 = quantile_sorted(v, 0.999);
  d.max = v.back();
  return d;
}

nlohmann::json DistributionSummary::to_json() const {
  // Rounded to the nanosecond so the JSON text does not carry float noise.
  auto r = [](double x) { return std::round(x * 1e9) / 1e9; };
  return {{"mean", r(mean)}, {"std", r(std)}, {"min", r(min)}, {"p50", r(p50)}, {"p90", r(p90)},
          {"p95", r(p95)},   {"p99", r(p99)}, {"p999", r(p999)}, {"max", r(max)}};
}

}  // namespace kunsim
