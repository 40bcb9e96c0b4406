#include "sim/metrics/request_metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kunsim {

RequestMetrics::RequestMetrics(std::FILE* csv, Slo slo, SimDuration frontend, const std::vector<MetricWindow>& windows,
                               bool hand_offs)
    : csv_(csv), slo_(slo), frontend_(frontend), hand_offs_(hand_offs), windows_(windows.begin(), windows.end()) {
  if (csv_)
    std::fputs("id,arrival_s,instance,prompt_tokens,output_tokens,generated_tokens,status,queue_s,ttft_s,tpot_s,e2e_s,"
               "preemptions,swaps,prefill_done_s\n",
               csv_);
}

namespace {

// Appends a non-negative duration in ns as seconds with 6 decimals (microseconds, rounded half
// up): integer arithmetic only, since float printf dominated writing requests.csv.
void put_seconds(std::string& out, SimDuration d) {
  const std::int64_t us = (d.ns() + 500) / 1000;
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof buf, us / 1'000'000).ptr;
  *end++ = '.';
  const std::int64_t frac = us % 1'000'000;
  for (std::int64_t div = 100'000; div > 0; div /= 10) *end++ = static_cast<char>('0' + (frac / div) % 10);
  out.append(buf, end);
}

void put_int(std::string& out, std::int64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

void RequestMetrics::row(const Request& r, const char* status) {
  if (first_arrival_ < kSimTimeZero || r.arrival < first_arrival_) first_arrival_ = r.arrival;
  if (!csv_) return;
  std::string& o = line_;
  o.clear();
  put_int(o, static_cast<std::int64_t>(r.id));
  o += ',';
  put_seconds(o, r.arrival.since_start());
  o += ',';
  put_int(o, r.instance);
  for (int v : {r.prompt, r.output, r.generated}) {
    o += ',';
    put_int(o, v);
  }
  o += ',';
  o += status;
  o += ',';
  if (r.scheduled) put_seconds(o, *r.scheduled - r.arrival);
  o += ',';
  if (r.first_token) put_seconds(o, *r.first_token - r.arrival + frontend_);
  o += ',';
  if (r.finished && r.first_token && r.output > 1)
    put_seconds(o, ((*r.finished - *r.first_token) + SimDuration::from_ns((r.output - 1) / 2)) / (r.output - 1));
  o += ',';
  if (r.finished) put_seconds(o, *r.finished - r.arrival + frontend_);
  o += ',';
  put_int(o, r.preemptions);
  o += ',';
  put_int(o, r.swaps);
  o += ',';
  if (r.prefill_done) put_seconds(o, *r.prefill_done - r.arrival + frontend_);
  o += '\n';
  std::fwrite(o.data(), 1, o.size(), csv_);
}

void RequestMetrics::on_finished(const Request& r) {
  ++completed_;
  output_tokens_ += r.output;
  input_tokens_ += r.prompt;
  last_finish_ = std::max(last_finish_, *r.finished);
  const double ttft = ns_to_seconds(*r.first_token - r.arrival + frontend_);
  const double e2e = ns_to_seconds(*r.finished - r.arrival + frontend_);
  const double tpot = r.output > 1 ? ns_to_seconds(*r.finished - *r.first_token) / (r.output - 1) : 0.0;
  ttft_.push_back(ttft);
  e2e_.push_back(e2e);
  const double sent = ns_to_seconds(r.arrival - kSimTimeZero);
  peaks_.completed(r.id, sent, sent + ttft, sent + e2e, r.output);
  if (r.prefill_done && *r.prefill_done < *r.first_token) ++handed_off_;
  if (hand_offs_ && r.prefill_done) prefill_done_.push_back(ns_to_seconds(*r.prefill_done - r.arrival + frontend_));
  queue_.push_back(ns_to_seconds(*r.scheduled - r.arrival));
  if (r.output > 1) tpot_.push_back(tpot);
  const bool met = ttft <= slo_.ttft_s && tpot <= slo_.tpot_s;
  if (met) ++met_slo_;
  in_windows(r.arrival, [&](WindowMetrics& w) { w.on_finished(ttft, tpot, e2e, queue_.back(), r.output > 1, met); });
  keep(r, r.output, ttft);
  row(r, "finished");
}

void RequestMetrics::keep(const Request& r, std::int64_t output, double ttft) {
  if (!per_request_) return;
  const auto at = static_cast<std::size_t>(r.id);
  if (per_request_->input_lens.size() <= at) {
    per_request_->input_lens.resize(at + 1, 0);
    per_request_->output_lens.resize(at + 1, 0);
    per_request_->ttfts.resize(at + 1, 0.0);
  }
  per_request_->input_lens[at] = r.prompt;
  per_request_->output_lens[at] = output;
  per_request_->ttfts[at] = ttft;
}

void RequestMetrics::on_rejected(const Request& r, const std::string&) {
  ++rejected_;
  peaks_.ended(r.id);
  in_windows(r.arrival, [](WindowMetrics& w) { w.on_rejected(); });
  keep(r, 0, 0.0);
  row(r, "rejected");
}

void RequestMetrics::on_aborted(const Request& r) {
  ++aborted_;
  peaks_.ended(r.id);
  aborted_tokens_ += r.generated;
  if (!r.scheduled) ++aborted_queued_;
  else if (!r.first_token) ++aborted_prefilling_;
  else aborted_ttft_.push_back(ns_to_seconds(*r.first_token - r.arrival + frontend_));
  in_windows(r.arrival, [](WindowMetrics& w) { w.on_aborted(); });
  keep(r, 0, 0.0);
  row(r, "aborted");
}

void RequestMetrics::on_unfinished(const Request& r) {
  ++unfinished_;
  peaks_.ended(r.id);
  in_windows(r.arrival, [](WindowMetrics& w) { w.on_unfinished(); });
  keep(r, 0, 0.0);
  row(r, "unfinished");
}

nlohmann::json RequestMetrics::summary_json() const {
  nlohmann::json j;
  j["requests"] = {{"arrived", arrived_},       {"completed", completed_}, {"rejected", rejected_},
                   {"unfinished", unfinished_}, {"aborted", aborted_}};
  j["ttft_s"] = summarize(ttft_).to_json();
  j["tpot_s"] = summarize(tpot_).to_json();
  j["e2e_s"] = summarize(e2e_).to_json();
  j["queue_s"] = summarize(queue_).to_json();
  // Disaggregated serving: the prompt was done this long after arrival; ttft_s adds the KV
  // hand-off and the wait for the decode instance's next step.
  if (handed_off_ > 0) j["prefill_done_s"] = summarize(prefill_done_).to_json();
  j["itl_s"] = itl_.summary().to_json();
  const auto streaming = static_cast<std::int64_t>(aborted_ttft_.size());
  j["aborted"] = {{"requests", aborted_},
                  {"before_admission", aborted_queued_},
                  {"before_first_token", aborted_prefilling_},
                  {"after_first_token", streaming},
                  {"generated_tokens", aborted_tokens_},
                  {"ttft_s", summarize(aborted_ttft_).to_json()}};
  j["frontend_s"] = ns_to_seconds(frontend_);  // included in ttft_s and e2e_s
  const double attainment = arrived_ ? static_cast<double>(met_slo_) / static_cast<double>(arrived_) : 1.0;
  j["slo"] = {{"ttft_s", slo_.ttft_s}, {"tpot_s", slo_.tpot_s}, {"attainment", std::round(attainment * 1e6) / 1e6}};
  const double span = span_s();
  auto rate = [&](double n) { return span > 0 ? std::round(n / span * 1e3) / 1e3 : 0.0; };
  const auto in = static_cast<double>(input_tokens_), out = static_cast<double>(output_tokens_);
  // Each rate names what it counts (an unqualified "tokens" was read as input + output).
  j["throughput"] = {{"requests_per_s", rate(static_cast<double>(completed_))},
                     {"output_tokens_per_s", rate(out)},
                     {"input_tokens_per_s", rate(in)},
                     {"total_tokens_per_s", rate(in + out)}};
  // Goodput, as vLLM's benchmark defines it: completed requests meeting every SLO, per second.
  j["goodput"] = {{"requests_per_s", rate(static_cast<double>(met_slo_))}, {"requests", met_slo_}};
  if (!windows_.empty()) {
    nlohmann::json& w = j["windows"];
    for (const WindowMetrics& m : windows_) w[m.window().name] = m.to_json();
  }
  return j;
}

double RequestMetrics::span_s() const {
  return first_arrival_ >= kSimTimeZero && last_finish_ > first_arrival_ ? ns_to_seconds(last_finish_ - first_arrival_) : 0;
}

VllmBenchResult RequestMetrics::vllm_bench(const std::string& model_id, const BenchClient& client) const {
  const double span = span_s();
  auto per_s = [&](double n) { return span > 0 ? n / span : 0.0; };
  VllmBenchResult b;
  b.backend = "kunsim";
  // The client's setup: every arrival sent open loop at the rate the arrivals were offered.
  b.model_id = model_id;
  b.tokenizer_id = model_id;
  b.num_prompts = arrived_;
  // Offered, as the source gave the requests (a closed loop sends them later): "inf" when all at once.
  const double offered = ns_to_seconds(last_offered_ - first_offered_);
  if (offered_ > 1 && offered > 0) b.request_rate = static_cast<double>(offered_ - 1) / offered;
  b.max_concurrency = client.max_concurrency;
  b.burstiness = client.burstiness;
  auto& f = b.figures;
  f["duration"] = span;
  f["completed"] = static_cast<double>(completed_);
  f["failed"] = static_cast<double>(rejected_ + unfinished_ + aborted_);
  f["total_input_tokens"] = static_cast<double>(input_tokens_);
  f["total_output_tokens"] = static_cast<double>(output_tokens_);
  f["request_throughput"] = per_s(static_cast<double>(completed_));
  f["request_goodput"] = per_s(static_cast<double>(met_slo_));
  f["output_throughput"] = per_s(static_cast<double>(output_tokens_));
  f["total_token_throughput"] = per_s(static_cast<double>(input_tokens_ + output_tokens_));
  const Peaks peak = peaks();
  f["max_output_tokens_per_s"] = peak.output_tokens_per_s;
  f["max_concurrent_requests"] = static_cast<double>(peak.concurrent_requests);
  for (const char* name : {"ttft", "tpot", "itl", "e2el"}) {
    const std::string n = name;
    const DistributionSummary d = n == "ttft"   ? summarize(ttft_)
                                  : n == "tpot" ? summarize(tpot_)
                                  : n == "itl"  ? itl_.summary()
                                                : summarize(e2e_);
    auto ms = [](double s) { return std::round(s * 1e9) / 1e6; };  // to the nanosecond, in ms
    f["mean_" + n + "_ms"] = ms(d.mean);
    f["median_" + n + "_ms"] = ms(d.p50);
    f["std_" + n + "_ms"] = ms(d.std);
    for (const auto& [p, v] : {std::pair{"p90", d.p90}, std::pair{"p95", d.p95}, std::pair{"p99", d.p99}})
      f[std::string(p) + "_" + n + "_ms"] = ms(v);
  }
  b.detailed = per_request_;
  return b;
}

}  // namespace kunsim
