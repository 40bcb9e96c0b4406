#include "traces/rate_schedule.hpp"

#include <algorithm>
#include <set>

namespace kunsim {

void RateSchedule::apply_bursts(const std::vector<Burst>& bursts) {
  if (bursts.empty()) return;
  std::set<SimTime> cuts;
  for (const auto& s : seg_) cuts.insert({s.start, s.end});
  for (const auto& b : bursts) {
    cuts.insert(at_seconds(b.start_s));
    cuts.insert(at_seconds(b.start_s + b.duration_s));
  }
  std::vector<RateSegment> out;
  std::size_t i = 0;
  for (auto it = cuts.begin(); it != cuts.end(); ++it) {
    auto nx = std::next(it);
    if (nx == cuts.end()) break;
    const SimTime a = *it, z = *nx;
    while (i < seg_.size() && seg_[i].end <= a) ++i;
    if (i == seg_.size()) break;
    if (seg_[i].start > a) continue;  // a gap, or a burst past the end: no base rate there
    RateSegment s = seg_[i];
    s.start = a;
    s.end = z;
    for (const auto& b : bursts)
      if (a >= at_seconds(b.start_s) && a < at_seconds(b.start_s + b.duration_s)) s.rate *= b.multiplier;
    out.push_back(s);
  }
  seg_ = std::move(out);
}

void RateSchedule::scale(double factor) {
  for (auto& s : seg_) s.rate *= factor;
}

std::optional<SimTime> RateSchedule::next_after(SimTime t, Rng& rng) {
  while (cur_ < seg_.size()) {
    const RateSegment& s = seg_[cur_];
    if (t < s.start) t = s.start;
    if (s.rate > 0 && t < s.end) {
      const double mean = 1.0 / s.rate;
      const double shape = 1.0 / (s.cv * s.cv);
      const double iat = s.cv == 1.0 ? rng.exponential(mean) : rng.gamma(shape, mean / shape);
      const SimTime next = t + std::max(SimDuration::from_ns(1), seconds_to_ns(std::min(iat, 1e7)));
      if (next < s.end) return next;
    }
    t = s.end;
    ++cur_;
  }
  return std::nullopt;
}

}  // namespace kunsim
