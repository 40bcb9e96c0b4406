// ServingObserver: how metrics and outputs listen to serving (first tokens, finished requests,
// decisions, work done, token gaps). Serving never includes a metrics header.
#pragma once
#include <cstdint>

#include "sim/core/sim_time.hpp"
#include "sim/serving/engine/decision.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class Engine;

// Inter-token gaps, as a run: `count` requests each got a token after each of `steps` gaps,
// the i-th gap being first_ns + step_ns * i, back to back from `from` (the first gap's start;
// per-window ITL cuts a run at a window's edges by it). An engine reports one run per
// iteration or decode jump (not per token), so the ITL distribution costs nothing per
// generated token.
struct TokenGaps {
  double first_ns = 0, step_ns = 0;
  std::int64_t steps = 1, count = 1;
  SimTime from = kSimTimeZero;
};

class ServingObserver {
 public:
  virtual ~ServingObserver() = default;
  virtual void on_first_token(const Request& r, SimTime now) = 0;
  // Finished or rejected; the request is not touched by serving afterwards.
  virtual void on_request_done(Request& r, SimTime now) = 0;
  // One row of decisions.jsonl.
  virtual void on_decision(const Decision& d) = 0;
  // A finished piece of work of an engine: one iteration, or `steps` decode steps jumped over.
  virtual void on_work(const Engine& /*engine*/, SimTime /*start*/, SimTime /*end*/, std::int64_t /*steps*/,
                       int /*decodes*/, std::int64_t /*prefill_tokens*/) {}
  // Gaps between successive output tokens of requests (ITL); the first token's wait is TTFT.
  virtual void on_token_gaps(const TokenGaps& /*gaps*/) {}
  // A request running at a KunServe drop got its first token after it: `gap` since its last
  // one before (already among the token gaps too). Under stall-exchange it is the stall.
  virtual void on_drop_gap(SimDuration /*gap*/) {}
};

}  // namespace kunsim
