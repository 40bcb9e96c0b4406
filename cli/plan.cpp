#include "plan.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "sim/simulation.hpp"

namespace kunsim {
namespace {

struct Probe {
  double value;
  Json summary;
  bool meets;
};

class Search {
 public:
  Search(Json base, TracePaths paths, const PlanOptions& opt, const Scenario& sc)
      : base_(std::move(base)),
        paths_(std::move(paths)),
        opt_(opt),
        tp_(sc.engine.tp),
        gpus_per_node_(sc.cluster.gpus_per_node),
        nodes_(sc.cluster.nodes) {}

  Probe probe(double value) {
    Json j = base_;
    const bool integer = opt_.vary == "deployment.instances";
    apply_override(j, opt_.vary + "=" + (integer ? std::to_string(std::llround(value)) : Json(value).dump()));
    if (integer) {
      // More instances than the cluster holds: add nodes of the same kind.
      const long long need = std::llround(value) * tp_;
      const long long nodes = (need + gpus_per_node_ - 1) / gpus_per_node_;
      if (nodes > nodes_) apply_override(j, "cluster.nodes=" + std::to_string(nodes));
    }
    const Scenario sc = scenario_from_json(j, paths_);
    Json s = Simulation(sc, RunOptions{"", false}).run();
    const bool meets = s["slo"]["attainment"].get<double>() >= opt_.target;
    probes_.push_back({{opt_.vary, integer ? Json(std::llround(value)) : Json(value)},
                       {"attainment", s["slo"]["attainment"]},
                       {"ttft_p99_s", s["ttft_s"]["p99"]},
                       {"tpot_mean_s", s["tpot_s"]["mean"]},
                       {"tokens_per_s", s["throughput"]["tokens_per_s"]},
                       {"meets", meets}});
    return {value, std::move(s), meets};
  }

  Json instances(double lo_in, double hi_in) {
    auto lo = static_cast<long long>(lo_in), hi = static_cast<long long>(hi_in);
    if (!probe(static_cast<double>(hi)).meets) return result(std::nullopt, "not met even at " + std::to_string(hi) + " instances");
    if (probe(static_cast<double>(lo)).meets) return result(static_cast<double>(lo), "met at the minimum");
    while (hi - lo > 1) {  // invariant: lo fails, hi meets
      const long long mid = lo + (hi - lo) / 2;
      (probe(static_cast<double>(mid)).meets ? hi : lo) = mid;
    }
    return result(static_cast<double>(hi), "fewest instances meeting the target");
  }

  Json rate(double lo, double hi) {
    if (!probe(lo).meets) return result(std::nullopt, "not met even at rate_scale " + Json(lo).dump());
    double good = lo, bad = 0;
    for (double r = lo * 2; r <= hi; r *= 2) {
      if (probe(r).meets) good = r;
      else {
        bad = r;
        break;
      }
    }
    if (bad == 0) return result(good, "met up to the maximum searched");
    while ((bad - good) / good > 0.01) {
      const double mid = (good + bad) / 2;
      (probe(mid).meets ? good : bad) = mid;
    }
    return result(good, "highest rate_scale meeting the target (within 1%)");
  }

 private:
  Json result(std::optional<double> v, const std::string& why) {
    Json j;
    j["value"] = v ? Json(opt_.vary == "deployment.instances" ? Json(std::llround(*v)) : Json(*v)) : Json(nullptr);
    j["reason"] = why;
    j["probes"] = probes_;
    return j;
  }
  Json base_;
  TracePaths paths_;
  const PlanOptions& opt_;
  long long tp_, gpus_per_node_, nodes_;
  Json probes_ = Json::array();
};

}  // namespace

namespace {
std::string fmt_bound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

Json run_plan(const std::string& file, const std::vector<std::string>& overrides, const PlanOptions& opt) {
  if (opt.vary != "deployment.instances" && opt.vary != "workload.rate_scale")
    throw InputError("--vary: expected deployment.instances or workload.rate_scale, got " + opt.vary);
  if (!(opt.target > 0 && opt.target <= 1)) throw InputError("--target: expected a share in (0, 1]");
  Json base = file.empty() ? parse_json_text(default_scenario_text(), "scenarios/default.json") : parse_json_file(file);
  for (const auto& o : overrides) apply_override(base, o);
  TracePaths paths{opt.trace_dir, file.empty() ? "" : std::filesystem::path(file).parent_path().string()};
  if (paths.trace_dir.empty())
    if (const char* env = std::getenv("KUNSIM_TRACE_DIR")) paths.trace_dir = env;
  const Scenario sc = scenario_from_json(base, paths);  // validates before searching
  std::vector<std::string> policies = opt.policies.empty() ? std::vector<std::string>{sc.policy_name} : opt.policies;
  double lo = opt.min, hi = opt.max;
  if (lo < 0 || hi < 0) throw InputError("--min/--max: expected positive bounds (or 0 for the default)");
  if (lo > 0 && hi > 0 && lo > hi)
    throw InputError("--min/--max: --min " + fmt_bound(lo) + " is above --max " + fmt_bound(hi));
  if (opt.vary == "deployment.instances") {
    if (lo <= 0) lo = 1;
    if (hi <= 0) hi = std::max(sc.cluster.total_gpus() / sc.engine.tp, 4 * sc.instances);
    if (lo > hi) throw InputError("--min/--max: empty instance range");
  } else {
    if (lo <= 0) lo = 0.25;
    if (hi <= 0) hi = 4096;
    if (lo > hi) throw InputError("--min/--max: empty rate_scale range");
  }
  std::map<std::string, Json> results;
  std::mutex mu;
  std::string error;
  std::size_t next = 0;
  auto worker = [&] {
    for (;;) {
      std::string policy;
      {
        std::lock_guard<std::mutex> l(mu);
        if (next >= policies.size()) return;
        policy = policies[next++];
      }
      try {
        Json b = base;
        apply_override(b, "policy.name=" + policy);
        Search search(b, paths, opt, sc);
        Json r = opt.vary == "deployment.instances" ? search.instances(lo, hi) : search.rate(lo, hi);
        std::lock_guard<std::mutex> l(mu);
        results[policy] = std::move(r);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(mu);
        if (error.empty()) error = "policy " + policy + ": " + e.what();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, std::min<int>(opt.threads, static_cast<int>(policies.size()))); ++t)
    pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (!error.empty()) throw InputError(error);
  Json plan;
  plan["scenario"] = sc.name;
  plan["target"] = opt.target;
  plan["vary"] = opt.vary;
  plan["slo"] = {{"ttft_s", sc.slo.ttft_s}, {"tpot_s", sc.slo.tpot_s}};
  plan["policies"] = Json::object();
  for (const auto& p : policies) plan["policies"][p] = results[p];
  return plan;
}

std::string plan_table(const Json& plan) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "plan: %s, SLO attainment >= %g (ttft <= %gs, tpot <= %gs), varying %s\n",
                plan["scenario"].get<std::string>().c_str(), plan["target"].get<double>(),
                plan["slo"]["ttft_s"].get<double>(), plan["slo"]["tpot_s"].get<double>(),
                plan["vary"].get<std::string>().c_str());
  out += line;
  std::snprintf(line, sizeof line, "%-12s %14s %8s  %s\n", "policy", "value", "probes", "result");
  out += line;
  for (auto it = plan["policies"].begin(); it != plan["policies"].end(); ++it) {
    const Json& r = it.value();
    std::snprintf(line, sizeof line, "%-12s %14s %8zu  %s\n", it.key().c_str(),
                  r["value"].is_null() ? "-" : r["value"].dump().c_str(), r["probes"].size(),
                  r["reason"].get<std::string>().c_str());
    out += line;
  }
  return out;
}

}  // namespace kunsim
