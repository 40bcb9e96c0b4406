// Interpolators over measured kernel times, built once and then read on the hot path.
// Interpolator1D: piecewise linear in log-log space over points (x >= 1), made monotone (a
// kernel given more work never takes less time; noise would otherwise make the curve wiggle).
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

class Interpolator1D {
 public:
  Interpolator1D() = default;
  enum class Scale { LogLog, Linear };
  explicit Interpolator1D(std::vector<std::pair<double, double>> xy, Scale scale = Scale::LogLog);
  double at(double x) const;
  bool empty() const { return lx_.empty(); }

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
