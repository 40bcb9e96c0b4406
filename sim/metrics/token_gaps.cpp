#include "sim/metrics/token_gaps.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace kunsim {
namespace {

constexpr int kMantissaBits = 10;  // 1024 bins per power of two: each under 0.1% wide

}  // namespace

int TokenGapHistogram::bin_of(double ns) {
  if (!(ns >= 1.0)) return 0;  // below 1 ns (or NaN): the first bin
  const auto bits = std::bit_cast<std::uint64_t>(ns);
  const int exponent = static_cast<int>((bits >> 52) & 0x7FF) - 1023;  // >= 0 for ns >= 1
  const auto mantissa = static_cast<int>((bits >> (52 - kMantissaBits)) & ((1u << kMantissaBits) - 1));
  return (exponent << kMantissaBits) + mantissa;
}

double TokenGapHistogram::bin_edge(int bin) {
  const int exponent = bin >> kMantissaBits, mantissa = bin & ((1 << kMantissaBits) - 1);
  return std::ldexp(1.0 + static_cast<double>(mantissa) / (1 << kMantissaBits), exponent);
}

double TokenGapHistogram::bin_value(int bin) {
  const int exponent = bin >> kMantissaBits, mantissa = bin & ((1 << kMantissaBits) - 1);
  return std::ldexp(1.0 + (static_cast<double>(mantissa) + 0.5) / (1 << kMantissaBits), exponent);
}

void TokenGapHistogram::add(const TokenGaps& g) {
  if (g.steps <= 0 || g.count <= 0) return;
  double first = g.first_ns, step = g.step_ns;
  const auto k = static_cast<double>(g.steps), c = static_cast<double>(g.count);
  if (step < 0) {  // walk it from its smallest gap
    first += step * (k - 1);
    step = -step;
  }
  const double last = first + step * (k - 1);
  // Exact moments: sum over i < k of (first + step i) and of its square.
  const double s1 = k * (k - 1) / 2, s2 = (k - 1) * k * (2 * k - 1) / 6;
  sum_ += c * (k * first + step * s1);
  sum_sq_ += c * (k * first * first + 2 * first * step * s1 + step * step * s2);
  min_ = n_ == 0 ? first : std::min(min_, first);
  max_ = n_ == 0 ? last : std::max(max_, last);
  n_ += g.steps * g.count;
  const int lo = bin_of(first), hi = bin_of(last);
  if (static_cast<int>(bins_.size()) <= hi) bins_.resize(static_cast<std::size_t>(hi) + 1, 0);
  if (lo == hi || step == 0) {
    bins_[static_cast<std::size_t>(lo)] += g.steps * g.count;
    return;
  }
  // Steps i in [0, k) fall in bin b when first + step i lies in [edge(b), edge(b + 1)).
  std::int64_t placed = 0;
  for (int b = lo; b <= hi; ++b) {
    const double upper = b == hi ? last + step : bin_edge(b + 1);  // bin b's upper edge
    auto below = static_cast<std::int64_t>(std::ceil((upper - first) / step));     // steps with a gap < upper
    below = std::clamp<std::int64_t>(below, placed, g.steps);
    bins_[static_cast<std::size_t>(b)] += (below - placed) * g.count;
    placed = below;
  }
  if (placed < g.steps) bins_[static_cast<std::size_t>(hi)] += (g.steps - placed) * g.count;
}

DistributionSummary TokenGapHistogram::summary() const {
  DistributionSummary d;
  d.count = static_cast<std::size_t>(n_);
  if (n_ == 0) return d;
  const double n = static_cast<double>(n_);
  d.mean = sum_ / n * 1e-9;
  d.std = std::sqrt(std::max(0.0, sum_sq_ / n - (sum_ / n) * (sum_ / n))) * 1e-9;
  d.min = min_ * 1e-9;
  d.max = max_ * 1e-9;
  auto at = [&](double q) {
    const auto rank = static_cast<std::int64_t>(std::ceil(q * n));  // 1-based rank of the q-quantile
    std::int64_t seen = 0;
    for (std::size_t b = 0; b < bins_.size(); ++b) {
      seen += bins_[b];
      if (seen >= std::max<std::int64_t>(rank, 1))
        return std::clamp(bin_value(static_cast<int>(b)), min_, max_) * 1e-9;
    }
    return max_ * 1e-9;
  };
  d.p50 = at(0.50);
  d.p90 = at(0.90);
  d.p95 = at(0.95);
  d.p99 = at(0.99);
  d.p999 = at(0.999);
  return d;
}

}  // namespace kunsim
