// LengthDistribution: token counts for synthetic requests: fixed, uniform, lognormal (by
// median and sigma), an empirical inverse CDF given as evenly spaced quantiles (what a workload
// profile stores), or a sequence: given lengths in order, one per request (a replayed
// benchmark's per-request lengths, vllm bench serve's --save-detailed input_lens and
// output_lens). Samples are whole tokens in [1, max].
#pragma once
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/core/rng.hpp"

namespace kunsim {

class LengthDistribution {
 public:
  enum class Kind { Fixed, Uniform, LogNormal, Quantiles, Sequence };
  static LengthDistribution fixed(int value);
  static LengthDistribution quantiles(std::vector<double> q);
  static LengthDistribution from_json(const Json& j, const std::string& path);

  int sample(Rng& rng) const;
  // The same, and whether `max` cut the draw (counted: a silent clip would change the workload).
  int sample(Rng& rng, bool& clipped) const;
  int max() const { return max_; }
  bool max_given() const { return max_given_; }  // `max` was set in the scenario
  double mean_estimate() const;  // for sizing checks and reports

 private:
  Kind kind_ = Kind::Fixed;
  double a_ = 1, b_ = 1;  // fixed: a; uniform: [a, b]; lognormal: median a, sigma b
  int max_ = 1 << 20;
  bool max_given_ = false;
  std::vector<double> q_;  // quantiles, or the sequence's lengths
  // A sequence keeps its place: the next length is q_[next_ % size]. Every arrival source draws
  // from its own copy, so the place is the source's, and `sample` stays const to its callers.
  mutable std::size_t next_ = 0;
};

}  // namespace kunsim
