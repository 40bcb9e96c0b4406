// RateSchedule: a piecewise-constant arrival rate over time with a coefficient of variation
// per piece; arrivals are a gamma renewal process (cv = 1 is Poisson). Built from a constant
// rate or a profile's windows, then multiplied by step bursts.
#pragma once
#include <optional>
#include <vector>

#include "sim/core/rng.hpp"
#include "sim/core/sim_time.hpp"

namespace kunsim {

struct RateSegment {
  SimTime start = kSimTimeZero, end = kSimTimeZero;
  double rate = 0;  // requests per second
  double cv = 1;
};

struct Burst {
  double start_s = 0, duration_s = 0, multiplier = 1;
};

class RateSchedule {
 public:
  explicit RateSchedule(std::vector<RateSegment> segments) : seg_(std::move(segments)) {}
  // Multiplies the rate inside each burst (segments are split at burst edges).
  void apply_bursts(const std::vector<Burst>& bursts);
  void scale(double factor);
  SimTime end() const { return seg_.empty() ? kSimTimeZero : seg_.back().end; }
  // The next arrival after `t`, or nullopt past the end. A draw that crosses a segment edge
  // restarts at the edge with the next segment's rate (the process is memoryless at edges).
  std::optional<SimTime> next_after(SimTime t, Rng& rng);
  const std::vector<RateSegment>& segments() const { return seg_; }

 private:
  std::vector<RateSegment> seg_;
  std::size_t cur_ = 0;
};

}  // namespace kunsim
