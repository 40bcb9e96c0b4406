#include "traces/workload_profile.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace kunsim {
namespace embedded {
extern const std::string_view profile_azure_conv;
extern const std::string_view profile_azure_code;
extern const std::string_view profile_mooncake_synthetic;
}  // namespace embedded

namespace {

std::vector<double> quantiles_of(std::vector<int>& v) {
  std::vector<double> q(101, 0.0);
  if (v.empty()) return q;
  std::sort(v.begin(), v.end());
  for (int i = 0; i <= 100; ++i) {
    const double pos = i / 100.0 * static_cast<double>(v.size() - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, v.size() - 1);
    q[i] = std::round((v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo))) * 10) / 10;
  }
  return q;
}

double round4(double x) { return std::round(x * 1e4) / 1e4; }

std::vector<double> numbers(const Json& j, const std::string& path, double lo, double hi) {
  if (!j.is_array()) throw InputError(path + ": expected an array of numbers");
  std::vector<double> out;
  for (std::size_t i = 0; i < j.size(); ++i) out.push_back(json_number(j[i], path + "[" + std::to_string(i) + "]", lo, hi));
  return out;
}

}  // namespace

Json WorkloadProfile::to_json() const {
  Json j;
  j["kind"] = "kunsim-workload-profile";
  j["source"] = source;
  j["requests"] = requests;
  j["skipped_rows"] = skipped;
  j["duration_s"] = round4(duration_s);
  j["mean_rate"] = round4(mean_rate());
  double peak = 0;
  for (double r : rate) peak = std::max(peak, r);
  j["peak_window_rate"] = round4(peak);
  j["window_s"] = window_s;
  j["rate"] = rate;
  j["cv"] = cv;
  j["input_tokens"] = {{"mean", round4(input_mean)}, {"quantiles", input_quantiles}};
  j["output_tokens"] = {{"mean", round4(output_mean)}, {"quantiles", output_quantiles}};
  if (reuse) j["prefix_reuse"] = reuse->to_json();
  if (sharing) j["sharing"] = sharing->to_json();
  return j;
}

WorkloadProfile WorkloadProfile::from_json(const Json& j, const std::string& origin) {
  const KeyCatalogue::Pause not_scenario_keys;  // a profile file is not a scenario
  JsonFields f(j, origin);
  WorkloadProfile p;
  if (f.string("kind") != "kunsim-workload-profile")
    throw InputError(f.path_of("kind") + ": expected \"kunsim-workload-profile\"");
  p.source = f.string("source", "");
  p.requests = f.integer("requests", 0, 1LL << 40);
  p.skipped = f.integer("skipped_rows", 0, 0, 1LL << 40);
  p.duration_s = f.number("duration_s", 1e-3, 1e9);
  f.number("mean_rate", 0, 0, 1e9);
  f.number("peak_window_rate", 0, 0, 1e9);
  p.window_s = f.number("window_s", 1e-3, 1e9);
  if (p.duration_s / p.window_s > static_cast<double>(kMaxProfileWindows))
    throw InputError(f.path_of("window_s") + ": " + std::to_string(p.window_s) + " s over duration_s " +
                     std::to_string(p.duration_s) + " makes more than " + std::to_string(kMaxProfileWindows) +
                     " windows");
  p.rate = numbers(f.required_child("rate"), f.path_of("rate"), 0, 1e9);
  p.cv = numbers(f.required_child("cv"), f.path_of("cv"), 0.01, 100);
  if (p.rate.empty() || p.rate.size() != p.cv.size())
    throw InputError(f.path_of("cv") + ": expected as many entries as rate (" + std::to_string(p.rate.size()) + ")");
  for (auto [key, q, mean] : {std::tuple{"input_tokens", &p.input_quantiles, &p.input_mean},
                              std::tuple{"output_tokens", &p.output_quantiles, &p.output_mean}}) {
    JsonFields t(f.required_child(key), f.path_of(key));
    *mean = t.number("mean", 0, 1e8);
    *q = numbers(t.required_child("quantiles"), t.path_of("quantiles"), 1, 1e8);
    if (q->size() < 2) throw InputError(t.path_of("quantiles") + ": expected at least 2 quantiles");
    t.finish();
  }
  f.child("prefix_reuse");  // what the trace measured: for reading, not replayed
  if (const Json* sh = f.child("sharing")) p.sharing = PrefixSharing::from_json(*sh, f.path_of("sharing"));
  f.finish();
  return p;
}

WorkloadProfile compute_profile(ArrivalSource& src, double window_s, const std::string& source_name) {
  WorkloadProfile p;
  p.source = source_name;
  p.window_s = window_s;
  if (!(window_s >= 1e-3 && window_s <= kMaxInputSeconds))
    throw InputError("--window-s: expected seconds in [0.001, 1e9], got " + std::to_string(window_s));
  const SimDuration win = seconds_to_ns(window_s);
  std::vector<int> in, out;
  // Per window: count, and sum / sum of squares of inter-arrival gaps that start in it.
  std::vector<double> n, gs, gs2, gn;
  SimTime last = kNoTime, end = kSimTimeZero;
  double in_sum = 0, out_sum = 0;
  PrefixReuseMeter reuse;
  while (auto r = src.next()) {
    reuse.add(*r);
    const auto w = static_cast<std::size_t>(r->arrival.since_start() / win);
    if (w >= kMaxProfileWindows)
      throw InputError(src.where() + ": a window of " + std::to_string(window_s) + " s over this trace's " +
                       std::to_string(ns_to_seconds(r->arrival)) + " s makes more than " +
                       std::to_string(kMaxProfileWindows) + " windows; give a larger --window-s");
    if (n.size() <= w) {
      n.resize(w + 1, 0);
      gs.resize(w + 1, 0);
      gs2.resize(w + 1, 0);
      gn.resize(w + 1, 0);
    }
    n[w] += 1;
    if (last >= kSimTimeZero) {
      const auto lw = static_cast<std::size_t>(last.since_start() / win);
      const double g = ns_to_seconds(r->arrival - last);
      gs[lw] += g;
      gs2[lw] += g * g;
      gn[lw] += 1;
    }
    last = end = r->arrival;
    in.push_back(r->prompt);
    out.push_back(r->output);
    in_sum += r->prompt;
    out_sum += r->output;
  }
  p.requests = static_cast<std::int64_t>(in.size());
  p.skipped = src.skipped();
  p.duration_s = std::max(ns_to_seconds(end), window_s * 1e-3);
  for (std::size_t w = 0; w < n.size(); ++w) {
    // The last window is partial: its rate is over the part the trace covers.
    const double span = w + 1 == n.size() ? std::max(ns_to_seconds(end) - static_cast<double>(w) * window_s, 1e-3) : window_s;
    p.rate.push_back(round4(n[w] / span));
    double cv = 1.0;
    if (gn[w] >= 10) {
      const double mean = gs[w] / gn[w];
      const double var = std::max(0.0, gs2[w] / gn[w] - mean * mean);
      if (mean > 0) cv = std::clamp(std::sqrt(var) / mean, 0.05, 50.0);
    }
    p.cv.push_back(round4(cv));
  }
  p.input_mean = p.requests ? in_sum / static_cast<double>(p.requests) : 0;
  p.output_mean = p.requests ? out_sum / static_cast<double>(p.requests) : 0;
  p.input_quantiles = quantiles_of(in);
  p.output_quantiles = quantiles_of(out);
  p.reuse = reuse.result();
  if (p.reuse) p.sharing = p.reuse->fitted_sharing(p.input_quantiles, p.output_quantiles);
  return p;
}

const WorkloadProfile* builtin_profile(const std::string& name) {
  static const std::map<std::string, WorkloadProfile> profiles = [] {
    std::map<std::string, WorkloadProfile> m;
    m["azure-conv"] = WorkloadProfile::from_json(
        parse_json_text(std::string(embedded::profile_azure_conv), "scenarios/profiles/azure-conv.json"),
        "azure-conv");
    m["azure-code"] = WorkloadProfile::from_json(
        parse_json_text(std::string(embedded::profile_azure_code), "scenarios/profiles/azure-code.json"),
        "azure-code");
    m["mooncake-synthetic"] = WorkloadProfile::from_json(
        parse_json_text(std::string(embedded::profile_mooncake_synthetic), "scenarios/profiles/mooncake-synthetic.json"),
        "mooncake-synthetic");
    return m;
  }();
  auto it = profiles.find(name);
  return it == profiles.end() ? nullptr : &it->second;
}

std::vector<std::string> builtin_profile_names() { return {"azure-code", "azure-conv", "mooncake-synthetic"}; }

}  // namespace kunsim
