// TokenGapHistogram: the inter-token latency (ITL) distribution of a run, built from the runs of
// gaps engines report (TokenGaps), never from single tokens: decode jumps skip steps, so a run
// of k steps arrives as one (first gap, step, k, requests) record. Mean, std, min and max are
// exact (closed forms over each run); percentiles come from bins 0.1% wide (the exponent and the
// top 10 mantissa bits of the gap in ns: no log on the hot path), so they are within 0.1% of the
// exact order statistic. Deterministic: the same runs, the same figures.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/metrics/distribution.hpp"
#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

class TokenGapHistogram {
 public:
  void add(const TokenGaps& g);
  DistributionSummary summary() const;  // in seconds
  std::int64_t count() const { return n_; }

 private:
  static int bin_of(double ns);
  static double bin_edge(int bin);   // the smallest value in the bin
  static double bin_value(int bin);  // the bin's middle
  std::vector<std::int64_t> bins_;
  std::int64_t n_ = 0;
  double sum_ = 0, sum_sq_ = 0, min_ = 0, max_ = 0;
};

}  // namespace kunsim
