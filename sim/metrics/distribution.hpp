// Distribution: a sample of values (seconds) summarised as mean, std (population, as numpy and
// `vllm bench serve` compute it), min, p50, p90, p95, p99, p99.9 and max.
// Percentiles interpolate linearly between order statistics (the numpy default), so small
// samples give stable, comparable figures.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

namespace kunsim {

struct DistributionSummary {
  double mean = 0, std = 0, min = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0;
  std::size_t count = 0;
  nlohmann::json to_json() const;
};

// Value at quantile q in [0, 1] of sorted values (empty -> 0).
double quantile_sorted(const std::vector<double>& sorted, double q);
DistributionSummary summarize(std::vector<double> values);

}  // namespace kunsim
