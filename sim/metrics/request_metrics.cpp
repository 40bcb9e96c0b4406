#include "sim/metrics/request_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace kunsim {

RequestMetrics::RequestMetrics(std::FILE* csv, Slo slo) : csv_(csv), slo_(slo) {
  if (csv_)
    std::fputs("id,arrival_s,instance,prompt_tokens,output_tokens,generated_tokens,status,queue_s,ttft_s,tpot_s,e2e_s,"
               "preemptions,swaps\n",
               csv_);
}

void RequestMetrics::row(const Request& r, const char* status) {
  if (first_arrival_ < 0 || r.arrival < first_arrival_) first_arrival_ = r.arrival;
  if (!csv_) return;
  auto opt = [&](const std::optional<SimTime>& t, char* buf) {
    if (t) std::snprintf(buf, 32, "%.6f", ns_to_seconds(*t - r.arrival));
    else buf[0] = '\0';
    return buf;
  };
  char q[32], tt[32], e2e[32], tp[32] = "";
  if (r.finished && r.first_token && r.output > 1)
    std::snprintf(tp, sizeof tp, "%.6f", ns_to_seconds(*r.finished - *r.first_token) / (r.output - 1));
  std::fprintf(csv_, "%llu,%.6f,%d,%d,%d,%d,%s,%s,%s,%s,%s,%d,%d\n", static_cast<unsigned long long>(r.id),
               ns_to_seconds(r.arrival), r.instance, r.prompt, r.output, r.generated, status, opt(r.scheduled, q),
               opt(r.first_token, tt), tp, opt(r.finished, e2e), r.preemptions, r.swaps);
}

void RequestMetrics::on_finished(const Request& r) {
  ++completed_;
  output_tokens_ += r.output;
  last_finish_ = std::max(last_finish_, *r.finished);
  const double ttft = ns_to_seconds(*r.first_token - r.arrival);
  const double e2e = ns_to_seconds(*r.finished - r.arrival);
  const double tpot = r.output > 1 ? ns_to_seconds(*r.finished - *r.first_token) / (r.output - 1) : 0.0;
  ttft_.push_back(ttft);
  e2e_.push_back(e2e);
  queue_.push_back(ns_to_seconds(*r.scheduled - r.arrival));
  if (r.output > 1) tpot_.push_back(tpot);
  if (ttft <= slo_.ttft_s && tpot <= slo_.tpot_s) ++met_slo_;
  row(r, "finished");
}

void RequestMetrics::on_rejected(const Request& r, const std::string&) {
  ++rejected_;
  row(r, "rejected");
}

void RequestMetrics::on_unfinished(const Request& r) {
  ++unfinished_;
  row(r, "unfinished");
}

nlohmann::json RequestMetrics::summary_json() const {
  nlohmann::json j;
  j["requests"] = {{"arrived", arrived_}, {"completed", completed_}, {"rejected", rejected_}, {"unfinished", unfinished_}};
  j["ttft_s"] = summarize(ttft_).to_json();
  j["tpot_s"] = summarize(tpot_).to_json();
  j["e2e_s"] = summarize(e2e_).to_json();
  j["queue_s"] = summarize(queue_).to_json();
  const double attainment = arrived_ ? static_cast<double>(met_slo_) / static_cast<double>(arrived_) : 1.0;
  j["slo"] = {{"ttft_s", slo_.ttft_s}, {"tpot_s", slo_.tpot_s}, {"attainment", std::round(attainment * 1e6) / 1e6}};
  const double span = first_arrival_ >= 0 && last_finish_ > first_arrival_ ? ns_to_seconds(last_finish_ - first_arrival_) : 0;
  j["throughput"] = {{"tokens_per_s", span > 0 ? std::round(static_cast<double>(output_tokens_) / span * 1e3) / 1e3 : 0.0},
                     {"requests_per_s", span > 0 ? std::round(static_cast<double>(completed_) / span * 1e3) / 1e3 : 0.0}};
  return j;
}

}  // namespace kunsim
