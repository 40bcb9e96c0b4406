// WindowMetrics: the latency figures of one stretch of a run, for the planner's question "who
// holds the SLO through the burst?" (summary.json's `windows.<name>`, `--target burst.ttft.p99<=2`).
//
// Two clocks, each the one that answers the question:
// - TTFT, TPOT, E2E, queueing and SLO attainment are over the requests that *arrived* in
//   [start, end): a request's fate is set by the load it arrived into, and a request that
//   arrived in the burst and waited 40 s past it still counts against the burst.
// - ITL is over the token gaps that *ended* in [start, end): what every streaming client saw
//   during the burst. Engines report gaps as runs over a cohort (TokenGaps), not per request,
//   so a run is cut at the window's edges by the times its gaps end.
// Latency percentiles are over the completed requests, as the whole run's are; the requests
// block counts the rest (rejected, unfinished, aborted), and attainment counts them as misses.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/core/sim_time.hpp"
#include "sim/metrics/token_gaps.hpp"
#include "sim/serving/engine/serving_observer.hpp"

namespace kunsim {

struct MetricWindow {
  std::string name;
  SimTime start = kSimTimeZero, end = kSimTimeZero;  // [start, end) in run time
};

class WindowMetrics {
 public:
  explicit WindowMetrics(MetricWindow w) : w_(std::move(w)) {}
  const MetricWindow& window() const { return w_; }
  bool holds(SimTime arrival) const { return w_.start <= arrival && arrival < w_.end; }

  // The request-level figures; the caller has checked holds(arrival).
  void on_arrival() { ++arrived_; }
  void on_finished(double ttft_s, double tpot_s, double e2e_s, double queue_s, bool has_tpot, bool met_slo);
  void on_rejected() { ++rejected_; }
  void on_unfinished() { ++unfinished_; }
  void on_aborted() { ++aborted_; }
  // The part of `g` whose gaps end inside the window (any run: it is cut here).
  void on_token_gaps(const TokenGaps& g);

  nlohmann::json to_json() const;

 private:
  MetricWindow w_;
  std::int64_t arrived_ = 0, completed_ = 0, rejected_ = 0, unfinished_ = 0, aborted_ = 0, met_slo_ = 0;
  std::vector<double> ttft_, tpot_, e2e_, queue_;
  TokenGapHistogram itl_;
};

}  // namespace kunsim
