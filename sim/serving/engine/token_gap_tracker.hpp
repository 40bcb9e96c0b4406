// TokenGapTracker: an engine's inter-token gaps (ITL), reported per step or decode jump, never
// per token. Every decode in the cohort got its last token at its lane's last step boundary
// (a pipeline group's virtual engine that sat a step out keeps the boundary before), except
// those that joined since (swapped in, adopted), whose last token came earlier (their own
// Request::last_token). A request leaving the cohort carries its last token time with it.
#pragma once
#include <algorithm>
#include <vector>

#include "sim/cost/cost_model.hpp"
#include "sim/serving/engine/decode_cohort.hpp"
#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

class TokenGapTracker {
 public:
  explicit TokenGapTracker(int lanes = 1) : boundary_(static_cast<std::size_t>(lanes), kNoTime) {}
  void joined(Request* r) { joined_.push_back(r); }
  // `r` left the cohort: when did its last token come?
  void left(Request* r) {
    if (const auto it = std::find(joined_.begin(), joined_.end(), r); it != joined_.end()) {
      joined_.erase(it);  // left before its first step here: its last_token is already right
      return;
    }
    r->last_token = boundary_[static_cast<std::size_t>(r->ve)];
  }
  // The cohort's lanes not sitting out finished a step at `first_end`, then `rest_steps` more
  // steps of `rest` (a jump, where no lane sits out; none for one iteration).
  void steps_done(ServingObserver& obs, const DecodeCohort& c, SimTime first_end, const DecodeRun* rest,
                  std::int64_t rest_steps) {
    // Settled decodes per lane; lanes with the same last boundary report one gap together.
    settled_.assign(boundary_.size(), 0);
    for (int j = 0; j < c.lanes(); ++j)
      if (!c.sitting_out(j)) settled_[static_cast<std::size_t>(j)] = c.lane_size(j);
    for (const Request* j : joined_) --settled_[static_cast<std::size_t>(j->ve)];
    for (std::size_t j = 0; j < settled_.size(); ++j) {
      if (settled_[j] <= 0 || boundary_[j] < kSimTimeZero) continue;
      std::int64_t n = 0;
      for (std::size_t k = j; k < settled_.size(); ++k)
        if (settled_[k] > 0 && boundary_[k] == boundary_[j]) {
          n += settled_[k];
          if (k > j) settled_[k] = 0;
        }
      obs.on_token_gaps(
          {.first_ns = static_cast<double>((first_end - boundary_[j]).ns()), .count = n, .from = boundary_[j]});
    }
    std::erase_if(joined_, [&](Request* j) {
      if (c.sitting_out(j->ve)) return false;  // still waiting for its first token here
      resumed(obs, j, first_end);
      return true;
    });
    if (rest && rest_steps > 0)
      obs.on_token_gaps({.first_ns = rest->first_ns + rest->slope_ns,
                         .step_ns = rest->slope_ns,
                         .steps = rest_steps,
                         .count = std::int64_t{c.size()},
                         .from = first_end});
  }
  // `r` joined the cohort at `now`, the step boundary that gave its first token: a lane that sat
  // that step out has an older boundary, so `r` counts from its own token instead.
  void started(Request* r, SimTime now) {
    if (boundary_[static_cast<std::size_t>(r->ve)] != now) joined_.push_back(r);
  }
  // `r`, out of a cohort since its last token (joined since, or prefilled again after a
  // recompute), got a token at `now`: that one gap, and the drop's stall if it spans a drop.
  static void resumed(ServingObserver& obs, Request* r, SimTime now) {
    if (r->last_token >= kSimTimeZero) {
      obs.on_token_gaps({.first_ns = static_cast<double>((now - r->last_token).ns()), .from = r->last_token});
      if (r->gap_spans_drop) obs.on_drop_gap(now - r->last_token);
    }
    r->gap_spans_drop = false;
  }
  // The step boundary at `now`: every decode of a lane that ran has its latest token now.
  void boundary(SimTime now, const DecodeCohort& c) {
    std::erase_if(joined_, [&](const Request* j) { return !c.sitting_out(j->ve); });
    for (int j = 0; j < c.lanes(); ++j)
      if (!c.sitting_out(j)) boundary_[static_cast<std::size_t>(j)] = now;
  }

 private:
  std::vector<SimTime> boundary_;
  std::vector<std::int64_t> settled_;
  std::vector<Request*> joined_;
};

}  // namespace kunsim
