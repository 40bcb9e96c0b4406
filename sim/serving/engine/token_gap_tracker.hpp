// TokenGapTracker: an engine's inter-token gaps (ITL), reported per step or decode jump, never
// per token. Every decode in the cohort got its last token at the last step boundary, except
// those that joined since (swapped in, adopted), whose last token came earlier (their own
// Request::last_token). A request leaving the cohort carries its last token time with it.
#pragma once
#include <algorithm>
#include <vector>

#include "sim/cost/cost_model.hpp"
#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

class TokenGapTracker {
 public:
  void joined(Request* r) { joined_.push_back(r); }
  // `r` left the cohort: when did its last token come?
  void left(Request* r) {
    if (const auto it = std::find(joined_.begin(), joined_.end(), r); it != joined_.end()) {
      joined_.erase(it);  // left before its first step here: its last_token is already right
      return;
    }
    r->last_token = last_boundary_;
  }
  // A cohort of `cohort_size` decodes finished a step at `first_end`, then `rest_steps` more
  // steps of `rest` (a jump; none for one iteration).
  void steps_done(ServingObserver& obs, int cohort_size, SimTime first_end, const DecodeRun* rest,
                  std::int64_t rest_steps) {
    const auto settled = static_cast<std::int64_t>(cohort_size - static_cast<int>(joined_.size()));
    if (settled > 0 && last_boundary_ >= kSimTimeZero)
      obs.on_token_gaps({static_cast<double>((first_end - last_boundary_).ns()), 0, 1, settled});
    for (Request* j : joined_) resumed(obs, j, first_end);
    joined_.clear();
    if (rest && rest_steps > 0)
      obs.on_token_gaps({rest->first_ns + rest->slope_ns, rest->slope_ns, rest_steps, std::int64_t{cohort_size}});
  }
  // `r`, out of a cohort since its last token (joined since, or prefilled again after a
  // recompute), got a token at `now`: that one gap, and the drop's stall if it spans a drop.
  static void resumed(ServingObserver& obs, Request* r, SimTime now) {
    if (r->last_token >= kSimTimeZero) {
      obs.on_token_gaps({static_cast<double>((now - r->last_token).ns()), 0, 1, 1});
      if (r->gap_spans_drop) obs.on_drop_gap(now - r->last_token);
    }
    r->gap_spans_drop = false;
  }
  // The step boundary at `now`: every decode in the cohort has its latest token now.
  void boundary(SimTime now) {
    joined_.clear();
    last_boundary_ = now;
  }

 private:
  SimTime last_boundary_ = kNoTime;
  std::vector<Request*> joined_;
};

}  // namespace kunsim
