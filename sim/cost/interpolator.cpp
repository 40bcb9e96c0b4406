#include "sim/cost/interpolator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace kunsim {

std::vector<std::pair<double, double>> robust_monotone(const std::vector<std::pair<double, double>>& xy,
                                                       std::vector<bool>* outlier) {
  constexpr double kOff = 1.3;  // 30%
  const std::size_t n = xy.size();
  std::vector<bool> out(n, false);
  auto y = [&](std::size_t i) { return xy[i].second; };
  // Isolated spikes and dips: the neighbours are in order, and the point lies 30% outside them.
  for (std::size_t i = 1; i + 1 < n; ++i)
    if (y(i - 1) <= y(i + 1) && (y(i) > kOff * y(i + 1) || kOff * y(i) < y(i - 1))) out[i] = true;
  if (n >= 2 && kOff * y(n - 1) < y(n - 2)) out[n - 1] = true;  // a dip at the end
  // Slower by 30% than some larger size among the rest (e.g. a run of warm-up-slow points).
  double later_min = std::numeric_limits<double>::max();
  for (std::size_t i = n; i-- > 0;) {
    if (out[i]) continue;
    if (y(i) > kOff * later_min) out[i] = true;
    else later_min = std::min(later_min, y(i));
  }
  // Data this inconsistent is not a few outliers: keep it all and let the isotonic fit average.
  if (2 * static_cast<std::size_t>(std::count(out.begin(), out.end(), true)) > xy.size()) out.assign(xy.size(), false);
  std::vector<std::pair<double, double>> kept;
  for (std::size_t i = 0; i < xy.size(); ++i)
    if (!out[i]) kept.push_back(xy[i]);
  if (outlier) *outlier = out;
  // Pool adjacent violators on log y, equal weights: blocks of (sum, count).
  std::vector<std::pair<double, int>> blocks;
  for (const auto& [x, y] : kept) {
    blocks.emplace_back(std::log(std::max(y, 1e-15)), 1);
    while (blocks.size() > 1) {
      auto& last = blocks.back();
      auto& prev = blocks[blocks.size() - 2];
      if (prev.first / prev.second <= last.first / last.second) break;
      prev.first += last.first;
      prev.second += last.second;
      blocks.pop_back();
    }
  }
  std::size_t i = 0;
  for (const auto& [sum, count] : blocks)
    for (int c = 0; c < count; ++c) kept[i++].second = std::exp(sum / count);
  return kept;
}

Interpolator1D::Interpolator1D(std::vector<std::pair<double, double>> xy, Scale scale) : scale_(scale) {
  std::sort(xy.begin(), xy.end());
  // Equal x (repeated measurements): keep the median-ish middle one; then enforce monotone y.
  std::vector<std::pair<double, double>> u;
  for (std::size_t i = 0; i < xy.size();) {
    std::size_t j = i;
    while (j < xy.size() && xy[j].first == xy[i].first) ++j;
    u.push_back(xy[i + (j - i) / 2]);
    i = j;
  }
  for (auto& [x, y] : robust_monotone(u)) {
    x_.push_back(std::max(x, 1.0));
    y_.push_back(std::max(y, 1e-12));
    lx_.push_back(std::log(x_.back()));
    ly_.push_back(std::log(y_.back()));
  }
}

double Interpolator1D::at(double x) const {
  if (lx_.empty()) return 0;
  x = std::max(x, 1.0);
  if (x <= x_.front()) return y_.front();
  if (scale_ == Scale::Linear) {
    std::size_t hi = static_cast<std::size_t>(std::upper_bound(x_.begin(), x_.end(), x) - x_.begin());
    if (x_.size() == 1) return y_.front();
    if (hi >= x_.size()) hi = x_.size() - 1;  // past the end: along the last segment
    const std::size_t lo = hi - 1;
    return y_[lo] + (y_[hi] - y_[lo]) * (x - x_[lo]) / (x_[hi] - x_[lo]);
  }
  if (x >= x_.back()) return y_.back() * x / x_.back();
  const double l = std::log(x);
  const auto hi = static_cast<std::size_t>(std::upper_bound(lx_.begin(), lx_.end(), l) - lx_.begin());
  const std::size_t lo = hi - 1;
  const double f = (l - lx_[lo]) / (lx_[hi] - lx_[lo]);
  return std::exp(ly_[lo] + f * (ly_[hi] - ly_[lo]));
}

Interpolator2D::Interpolator2D(const std::vector<ProfilePoint>& pts) {
  std::map<double, std::vector<std::pair<double, double>>> by_p1;
  for (const auto& p : pts) by_p1[p.p1].emplace_back(p.p2 + 1.0, p.seconds);  // p2 may be 0
  for (auto& [p1, xy] : by_p1) {
    p1_.push_back(std::max(p1, 1.0));
    rows_.emplace_back(std::move(xy), Interpolator1D::Scale::Linear);
  }
}

double Interpolator2D::at(double p1, double p2) const {
  if (rows_.empty()) return 0;
  const double x = p2 + 1.0;
  p1 = std::max(p1, 1.0);
  if (p1 <= p1_.front()) return rows_.front().at(x);
  if (p1 >= p1_.back()) return rows_.back().at(x) * p1 / p1_.back();
  const auto hi = static_cast<std::size_t>(std::upper_bound(p1_.begin(), p1_.end(), p1) - p1_.begin());
  const std::size_t lo = hi - 1;
  const double a = std::log(std::max(rows_[lo].at(x), 1e-12)), b = std::log(std::max(rows_[hi].at(x), 1e-12));
  const double f = (std::log(p1) - std::log(p1_[lo])) / (std::log(p1_[hi]) - std::log(p1_[lo]));
  return std::exp(a + f * (b - a));
}

}  // namespace kunsim
