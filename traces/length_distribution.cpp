#include "traces/length_distribution.hpp"

#include <algorithm>
#include <cmath>

namespace kunsim {

LengthDistribution LengthDistribution::fixed(int value) {
  LengthDistribution d;
  d.kind_ = Kind::Fixed;
  d.a_ = value;
  return d;
}

LengthDistribution LengthDistribution::quantiles(std::vector<double> q) {
  LengthDistribution d;
  d.kind_ = Kind::Quantiles;
  d.q_ = std::move(q);
  return d;
}

LengthDistribution LengthDistribution::from_json(const Json& j, const std::string& path) {
  if (j.is_number()) return fixed(static_cast<int>(json_integer(j, path, 1, 10'000'000)));
  JsonFields f(j, path);
  LengthDistribution d;
  const std::string type = f.choice("type", "fixed", {"fixed", "uniform", "lognormal", "quantiles", "sequence"},
                                    Help{"fixed, uniform, lognormal, quantiles or sequence"});
  d.max_given_ = f.has("max");
  d.max_ = static_cast<int>(f.integer("max", 1 << 20, 1, 10'000'000,
                                      Help{"draws above this are cut to it (counted in workload.clipped_samples)"}));
  if (type == "fixed") {
    d.kind_ = Kind::Fixed;
    d.a_ = static_cast<double>(f.integer("value", 1, 10'000'000, Help{"fixed: the length"}));
  } else if (type == "uniform") {
    d.kind_ = Kind::Uniform;
    d.a_ = static_cast<double>(f.integer("min", 1, 10'000'000, Help{"uniform: the shortest"}));
    d.b_ = static_cast<double>(f.integer("max_value", 1, 10'000'000, Help{"uniform: the longest"}));
    if (d.b_ < d.a_) throw InputError(f.path_of("max_value") + ": must be >= min");
  } else if (type == "lognormal") {
    d.kind_ = Kind::LogNormal;
    d.a_ = f.number("median", 1, 1e7, Help{"lognormal: the median"});
    d.b_ = f.number("sigma", 0, 5, Help{"lognormal: sigma of the log"});
  } else if (type == "sequence") {
    d.kind_ = Kind::Sequence;
    const Json& v = f.required_child(
        "lengths", Help{"sequence: the lengths in order, one per request (after the last, from the first again)"},
        "array");
    const std::string vp = f.path_of("lengths");
    if (!v.is_array() || v.empty()) throw InputError(vp + ": expected a non-empty array of lengths");
    for (std::size_t i = 0; i < v.size(); ++i)
      d.q_.push_back(static_cast<double>(json_integer(v[i], vp + "[" + std::to_string(i) + "]", 1, 10'000'000)));
  } else {
    d.kind_ = Kind::Quantiles;
    const Json& v = f.required_child("values", Help{"quantiles: equally spaced quantiles, non-decreasing"}, "array");
    const std::string vp = f.path_of("values");
    if (!v.is_array() || v.size() < 2) throw InputError(vp + ": expected an array of at least 2 quantiles");
    for (std::size_t i = 0; i < v.size(); ++i) {
      d.q_.push_back(json_number(v[i], vp + "[" + std::to_string(i) + "]", 1, 1e7));
      if (i > 0 && d.q_[i] < d.q_[i - 1])
        throw InputError(vp + "[" + std::to_string(i) + "]: quantiles must not decrease");
    }
  }
  f.finish();
  return d;
}

int LengthDistribution::sample(Rng& rng) const {
  bool clipped = false;
  return sample(rng, clipped);
}

int LengthDistribution::sample(Rng& rng, bool& clipped) const {
  double x = a_;
  switch (kind_) {
    case Kind::Fixed: break;
    case Kind::Uniform: x = a_ + std::floor(rng.uniform() * (b_ - a_ + 1)); break;
    case Kind::LogNormal: x = a_ * std::exp(b_ * rng.normal()); break;
    case Kind::Sequence:
      x = q_[next_++ % q_.size()];
      break;
    case Kind::Quantiles: {
      const double pos = rng.uniform() * static_cast<double>(q_.size() - 1);
      const auto i = static_cast<std::size_t>(pos);
      const double frac = pos - static_cast<double>(i);
      x = i + 1 < q_.size() ? q_[i] + (q_[i + 1] - q_[i]) * frac : q_.back();
      break;
    }
  }
  const long long v = std::llround(x);
  clipped = v > max_;
  return static_cast<int>(std::clamp(v, 1LL, static_cast<long long>(max_)));
}

double LengthDistribution::mean_estimate() const {
  switch (kind_) {
    case Kind::Fixed: return a_;
    case Kind::Uniform: return (a_ + b_) / 2;
    case Kind::LogNormal: return a_ * std::exp(b_ * b_ / 2);
    case Kind::Sequence: {
      double s = 0;
      for (double v : q_) s += v;
      return s / static_cast<double>(q_.size());
    }
    case Kind::Quantiles: {
      double s = 0;
      for (std::size_t i = 0; i + 1 < q_.size(); ++i) s += (q_[i] + q_[i + 1]) / 2;
      return s / static_cast<double>(q_.size() - 1);
    }
  }
  return a_;
}

}  // namespace kunsim
