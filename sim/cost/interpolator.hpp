// Interpolators over measured kernel times, built once and then read on the hot path.
// Interpolator1D: piecewise linear in log-log space over points (x >= 1), made monotone (a
// kernel given more work never takes less time; noise would otherwise make the curve wiggle).
// Monotone robustly (robust_monotone): points the data itself contradicts are dropped as
// outliers, then the rest is fitted by isotonic regression (pool-adjacent-violators in log
// time), so a lone slow measurement never raises every larger size the way a running maximum
// would. An outlier is an isolated dip (30% below both neighbours) or a point 30% slower than
// some larger size (more work cannot run that much faster: timing noise only ever adds time).
// Below the first point: the first point's time (launch-bound floor). Past the last point:
// time grows linearly with x from the last point (the roofline regime: work-bound).
// Linear mode (for attention over context, whose time is affine in it): piecewise linear in
// (x, y), extended past the last point along the last segment's slope.
// Interpolator2D: one linear-mode curve over p2 (context) per measured p1 (chunk or batch),
// interpolated across p1 in log space (floor below, linear growth above).
#pragma once
#include <utility>
#include <vector>

#include "sim/cost/profile.hpp"

namespace kunsim {

// The robust monotone fit of (x, y) points sorted by x with distinct x: outliers dropped, the
// rest isotonic in log y. Returns the kept points; `outlier`, if given, flags the dropped ones.
std::vector<std::pair<double, double>> robust_monotone(const std::vector<std::pair<double, double>>& xy,
                                                       std::vector<bool>* outlier = nullptr);

class Interpolator1D {
 public:
  Interpolator1D() = default;
  enum class Scale { LogLog, Linear };
  explicit Interpolator1D(std::vector<std::pair<double, double>> xy, Scale scale = Scale::LogLog);
  double at(double x) const;
  bool empty() const { return lx_.empty(); }
  const std::vector<double>& xs() const { return x_; }  // the kept points' x

 private:
  std::vector<double> lx_, ly_;  // log of x (x >= 1) and of seconds
  std::vector<double> x_, y_;
  Scale scale_ = Scale::LogLog;
};

class Interpolator2D {
 public:
  Interpolator2D() = default;
  explicit Interpolator2D(const std::vector<ProfilePoint>& pts);
  double at(double p1, double p2) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<double> p1_;
  std::vector<Interpolator1D> rows_;
};

}  // namespace kunsim
