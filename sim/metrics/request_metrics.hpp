// RequestMetrics: the per-request record of a run. Each request that ends (finished, rejected,
// or unfinished when the run stops) becomes one row of requests.csv, written as it ends so
// memory stays bounded by what is in flight plus a few numbers per finished request (kept for
// the percentiles, and for vllm bench serve's peaks). SLO attainment counts every arrived request: a rejected, aborted
// or unfinished one misses its SLO. Aborted requests (their client gave up) are failures, as in vLLM's benchmark: their
// latencies stay out of the percentiles above and are reported apart.
#pragma once
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sim/metrics/bench_peaks.hpp"
#include "sim/metrics/distribution.hpp"
#include "sim/metrics/token_gaps.hpp"
#include "sim/metrics/vllm_bench_result.hpp"
#include "sim/metrics/window_metrics.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

struct Slo {
  double ttft_s = 2.0;
  double tpot_s = 0.2;
};

class RequestMetrics {
 public:
  // `csv` may be null (no requests.csv). `frontend` (ns) is the front-end's time per request,
  // added to the TTFT and E2E the client sees (requests.csv, the summary and the SLO).
  // `windows` (metrics.windows, the bursts) get their own figures (WindowMetrics). `hand_offs`:
  // prefill instances hand requests to decode instances, so when each prompt was done is worth
  // its own distribution (elsewhere it is the first token's time, and is not kept).
  RequestMetrics(std::FILE* csv, Slo slo, SimDuration frontend = {}, const std::vector<MetricWindow>& windows = {},
                 bool hand_offs = false);
  // The source offered a request at `at` (a closed loop may send it later): the offered rate.
  void on_offered(SimTime at) {
    if (offered_++ == 0) first_offered_ = at;
    last_offered_ = at;
  }
  void on_arrival(SimTime at) {
    ++arrived_;
    if (last_arrival_ < at) last_arrival_ = at;
    in_windows(at, [](WindowMetrics& w) { w.on_arrival(); });
  }
  void on_finished(const Request& r);
  void on_rejected(const Request& r, const std::string& reason);
  void on_unfinished(const Request& r);
  void on_aborted(const Request& r);
  void on_token_gaps(const TokenGaps& g) {
    itl_.add(g);
    for (WindowMetrics& w : windows_) w.on_token_gaps(g);
  }
  // A request running at a KunServe drop got its next token `gap_s` after its last one before.
  void on_drop_gap(double gap_s) { drop_gaps_.push_back(gap_s); }
  const std::vector<double>& drop_gaps() const { return drop_gaps_; }

  std::int64_t arrived() const { return arrived_; }
  std::int64_t completed() const { return completed_; }
  std::int64_t rejected() const { return rejected_; }
  std::int64_t unfinished() const { return unfinished_; }
  std::int64_t aborted() const { return aborted_; }
  std::int64_t output_tokens() const { return output_tokens_; }
  SimTime first_arrival() const { return first_arrival_; }
  SimTime last_finish() const { return last_finish_; }
  // The summary's request-level blocks (requests, ttft_s, ..., slo, throughput, goodput), and
  // `windows` (by name) when there are any.
  nlohmann::json summary_json() const;
  // The same figures under `vllm bench serve`'s flat keys and units (ms, per second), for
  // dashboards built on vLLM's benchmark (vllm-bench.json). `model_id` is the model's name
  // (vLLM's tokenizer_id defaults to it, as here).
  struct BenchClient {
    std::optional<double> burstiness;             // vLLM's gamma shape of the gaps, 1 / CV^2 (1: Poisson); null: none
    std::optional<std::int64_t> max_concurrency;  // a closed loop's slots; null: open loop
  };
  VllmBenchResult vllm_bench(const std::string& model_id = "", const BenchClient& client = {}) const;
  nlohmann::json vllm_bench_json(const std::string& model_id = "", const BenchClient& client = {}) const {
    return vllm_bench(model_id, client).to_json();
  }
  // Keep each request's prompt, output and TTFT for vllm-bench.json's per-request arrays
  // (`kunsim run --save-detailed`, as vLLM's): 24 bytes per arrival, so only when asked.
  void keep_per_request() { per_request_.emplace(); }
  // vllm bench serve's peaks over one-second buckets counted from the first completed request's
  // start: the most output tokens in a bucket, and the most completed requests active in one.
  using Peaks = BenchPeaks::Peaks;
  Peaks peaks() const { return peaks_.peaks(); }

 private:
  void row(const Request& r, const char* status);
  std::FILE* csv_;
  Slo slo_;
  SimDuration frontend_;
  std::int64_t arrived_ = 0, completed_ = 0, rejected_ = 0, unfinished_ = 0, met_slo_ = 0;
  // Aborted: in all, before admission, admitted but before the first token; their outputs.
  std::int64_t aborted_ = 0, aborted_queued_ = 0, aborted_prefilling_ = 0, aborted_tokens_ = 0;
  std::vector<double> aborted_ttft_;  // of those that had their first token
  std::int64_t output_tokens_ = 0, input_tokens_ = 0;
  double span_s() const;  // first arrival to last finish
  SimTime first_arrival_ = kNoTime, last_finish_ = kSimTimeZero;
  // Kept for exact percentiles: 32 bytes per completed request (8 more with hand-offs).
  std::vector<double> ttft_, tpot_, e2e_, queue_, prefill_done_;
  bool hand_offs_;
  SimTime last_arrival_ = kSimTimeZero;
  std::int64_t offered_ = 0;
  SimTime first_offered_ = kSimTimeZero, last_offered_ = kSimTimeZero;
  BenchPeaks peaks_;
  std::int64_t handed_off_ = 0;  // finished requests whose first token came after a KV hand-off
  TokenGapHistogram itl_;
  std::vector<double> drop_gaps_;  // one per request running at a drop (seconds)
  std::vector<WindowMetrics> windows_;
  // Calls f on each window a request arriving at `arrival` counts in.
  template <typename F>
  void in_windows(SimTime arrival, F f) {
    for (WindowMetrics& w : windows_)
      if (w.holds(arrival)) f(w);
  }
  std::string line_;  // reused for each requests.csv row
  // --save-detailed: by request id (ids are dense from 0); a request that failed gets output 0
  // and TTFT 0, as vLLM records one.
  std::optional<VllmBenchResult::PerRequest> per_request_;
  void keep(const Request& r, std::int64_t output, double ttft);
};

}  // namespace kunsim
