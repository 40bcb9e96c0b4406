#include "whatif/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "run/cluster_growth.hpp"
#include "run/simulation.hpp"
#include "sim/core/interruption.hpp"
#include "sim/cost/csv_rows.hpp"

namespace kunsim {
namespace {

std::string fmt_with(double v, const char* f);

struct Probe {
  double value;
  Json summary;
  bool meets;
};

// What a varied count means: `deployment.instances` (the single form) or the count of one
// instance group (`deployment.groups.<name or index>.count`), with the JSON path it sets and its
// GPU kind's nodes at the start (the search's default range; run/cluster_growth.hpp adds nodes).
struct CountKnob {
  std::string override_path;   // empty: not a count (rate_scale)
  int group = -1;              // the instance group it counts
  long long tp = 1;
  long long other_gpus = 0;  // GPUs of its kind the other groups take
  long long gpus_per_node = 8;
  long long nodes = 1;
};

class Search {
 public:
  Search(Json base, TracePaths paths, const PlanOptions& opt, const PlanTargets& target, const CountKnob& knob)
      : base_(std::move(base)), paths_(std::move(paths)), opt_(opt), target_(target), knob_(knob) {}

  // The scenario with the knob at `value`, and its JSON; a count outgrowing its cluster adds nodes
  // (run/cluster_growth.hpp, the rule sweep places by too).
  std::pair<Json, Scenario> at(double value) {
    Json j = base_;
    if (knob_.override_path.empty()) {
      apply_override(j, opt_.vary + "=" + Json(value).dump());
      Scenario sc = scenario_from_json(j, paths_);
      return {std::move(j), std::move(sc)};
    }
    apply_override(j, knob_.override_path + "=" + std::to_string(std::llround(value)));
    GrownScenario g = scenario_adding_nodes(std::move(j), paths_);
    return {std::move(g.json), std::move(g.scenario)};
  }
  Scenario scenario_at(double value) { return at(value).second; }

  Probe probe(double value) {
    const bool integer = !knob_.override_path.empty();
    const Scenario sc = scenario_at(value);
    RunOptions ro;
    ro.wall_clock = false;
    ro.force = opt_.force;
    Json s;
    try {
      s = Simulation(sc, ro).run();
    } catch (const InputError& e) {
      // A point that cannot run once it starts (no arrival before sim.max_time_s, a limit) does
      // not meet the target: the search goes on past it, and plan.json says why.
      Json p = {
          {opt_.vary, integer ? Json(std::llround(value)) : Json(value)}, {"meets", false}, {"infeasible", e.what()}};
      probes_.push_back(p);
      missed_[value] = {"infeasible"};
      return {value, Json(), false};
    }
    const bool meets = target_.meets(s);
    Json values = Json::object();
    for (const PlanTarget& t : target_.all) values[t.text] = t.value(s);
    missed_[value] = target_.missed(s);
    Json p = {{opt_.vary, integer ? Json(std::llround(value)) : Json(value)},
              {"target_value", target_.all.front().value(s)},
              {"target_values", values},
              {"missed", missed_[value]},
              {"attainment", s["slo"]["attainment"]},
              {"ttft_p99_s", s["ttft_s"]["p99"]},
              {"tpot_mean_s", s["tpot_s"]["mean"]},
              {"output_tokens_per_s", s["throughput"]["output_tokens_per_s"]},
              {"goodput_requests_per_s", s["goodput"]["requests_per_s"]},
              {"meets", meets}};
    costs(p, sc, s["throughput"]);
    probes_.push_back(p);
    return {value, std::move(s), meets};
  }

  // GPUs (in all, and by kind on a fleet), the whole nodes they take, $/hour and $ per million
  // output and input tokens of a probe (the dollars when every kind has a price).
  static void costs(Json& p, const Scenario& sc, const Json& throughput) {
    long long gpus = 0;
    double per_hour = 0;
    bool priced = true;
    Json by_kind = Json::object();
    for (const auto& g : sc.deployment.groups) {
      gpus += g.gpu_count();
      const std::string& kind = g.hardware.gpu.name;
      by_kind[kind] = by_kind.value(kind, 0LL) + g.gpu_count();
      if (g.hardware.price_per_gpu_hour) per_hour += g.gpu_count() * *g.hardware.price_per_gpu_hour;
      else priced = false;
    }
    long long nodes = 0;
    for (const NodeGroupSpec& k : sc.cluster.node_groups())
      if (by_kind.contains(k.gpu.name))
        nodes += (by_kind[k.gpu.name].get<long long>() + k.gpus_per_node - 1) / k.gpus_per_node;
    p["gpus"] = gpus;
    p["nodes"] = nodes;
    if (by_kind.size() > 1) p["gpus_by_kind"] = by_kind;
    if (!priced) return;
    p["dollars_per_hour"] = per_hour;
    auto per_million = [&](const char* rate) {
      const double tokens_per_s = throughput[rate].get<double>();
      return tokens_per_s > 0 ? Json(per_hour / (tokens_per_s * 3600.0) * 1e6) : Json(nullptr);
    };
    p["dollars_per_million_output_tokens"] = per_million("output_tokens_per_s");
    p["dollars_per_million_input_tokens"] = per_million("input_tokens_per_s");
  }

  Json instances(double lo_in, double hi_in) {
    auto lo = static_cast<long long>(lo_in), hi = static_cast<long long>(hi_in);
    if (!probe(static_cast<double>(hi)).meets)
      return result(std::nullopt, "not met even at " + std::to_string(hi) + " instances", static_cast<double>(hi));
    if (probe(static_cast<double>(lo)).meets) return result(static_cast<double>(lo), "met at the minimum");
    while (hi - lo > 1) {  // invariant: lo fails, hi meets
      const long long mid = lo + (hi - lo) / 2;
      (probe(static_cast<double>(mid)).meets ? hi : lo) = mid;
    }
    return result(static_cast<double>(hi), "fewest instances meeting the target", static_cast<double>(lo));
  }

  Json rate(double lo, double hi) {
    if (!probe(lo).meets) return result(std::nullopt, "not met even at rate_scale " + Json(lo).dump(), lo);
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
    return result(good, "highest rate_scale meeting the target (within 1%)", bad);
  }

 private:
  // `failed`: the nearest probe that failed, whose missed targets bind the answer (none given:
  // nothing failed, nothing binds).
  Json result(std::optional<double> v, const std::string& why, std::optional<double> failed = std::nullopt) {
    Json j;
    j["value"] = v ? Json(!knob_.override_path.empty() ? Json(std::llround(*v)) : Json(*v)) : Json(nullptr);
    j["reason"] = why;
    j["binding"] = failed ? Json(missed_.at(*failed)) : Json::array();
    // The answer in the planner's units: the chosen probe's GPUs and dollars.
    for (const Json& p : probes_)
      if (v && p[opt_.vary] == j["value"])
        for (const char* k : {"gpus", "nodes", "gpus_by_kind", "dollars_per_hour", "dollars_per_million_output_tokens",
                              "dollars_per_million_input_tokens", "target_value"})
          if (p.contains(k)) j[k] = p[k];
    j["probes"] = probes_;
    return j;
  }
  Json base_;
  TracePaths paths_;
  const PlanOptions& opt_;
  const PlanTargets& target_;
  const CountKnob knob_;  // a copy: callers pass temporaries (the headroom search's none)
  Json probes_ = Json::array();
  std::map<double, std::vector<std::string>> missed_;  // by probed value: the targets it missed
};

}  // namespace

namespace {
const std::vector<std::string> kLatencies = {"ttft", "tpot", "itl", "e2e", "queue"};
const std::vector<std::string> kStats = {"mean", "p50", "p90", "p95", "p99", "p999", "max"};
bool known(const std::string& metric) {
  return metric == "attainment" || metric == "goodput" || metric == "throughput" ||
         std::find(kLatencies.begin(), kLatencies.end(), metric) != kLatencies.end();
}
}  // namespace

PlanTarget PlanTarget::parse(const std::string& text) {
  PlanTarget t;
  t.text = text;
  auto number = [&](const std::string& s) {
    const std::optional<double> v = parse_number(s);
    if (!v || *v < 0) throw InputError("--target " + text + ": expected a number, got \"" + s + "\"");
    return *v;
  };
  const auto le = text.find("<="), ge = text.find(">=");
  if (le == std::string::npos && ge == std::string::npos) {
    t.metric = "attainment";
    t.bound = number(text);
  } else {
    const auto at = le != std::string::npos ? le : ge;
    t.at_most = le != std::string::npos;
    std::string lhs = text.substr(0, at);
    t.bound = number(text.substr(at + 2));
    auto dot = lhs.find('.');
    t.metric = lhs.substr(0, dot);
    if (dot != std::string::npos && !known(t.metric)) {  // <window>.<metric>[.STAT]
      t.window = t.metric;
      lhs = lhs.substr(dot + 1);
      dot = lhs.find('.');
      t.metric = lhs.substr(0, dot);
      if (t.metric == "goodput" || t.metric == "throughput")
        throw InputError("--target " + text + ": a window has attainment and latencies (" + t.window +
                         ".ttft.p99<=X, " + t.window + ".attainment>=X), not " + t.metric);
    }
    if (dot != std::string::npos) t.stat = lhs.substr(dot + 1);
  }
  const bool latency = std::find(kLatencies.begin(), kLatencies.end(), t.metric) != kLatencies.end();
  if (latency) {
    if (std::find(kStats.begin(), kStats.end(), t.stat) == kStats.end())
      throw InputError("--target " + text + ": expected " + t.metric + ".STAT with STAT one of mean, p50, p90, p95, p99, p999, max");
    if (!t.at_most) throw InputError("--target " + text + ": a latency is bounded from above (" + t.metric + "." + t.stat + "<=X)");
  } else if (t.metric == "attainment" || t.metric == "goodput" || t.metric == "throughput") {
    if (t.at_most || !t.stat.empty()) throw InputError("--target " + text + ": expected " + t.metric + ">=X");
    if (t.metric == "attainment" && !(t.bound > 0 && t.bound <= 1))
      throw InputError("--target " + text + ": attainment is a share in (0, 1]");
  } else {
    throw InputError("--target " + text + ": expected attainment, goodput, throughput or a latency " +
                     "(ttft, tpot, itl, e2e, queue).STAT with <= or >=, each after a metric window's name if one " +
                     "(burst.ttft.p99<=2)");
  }
  return t;
}

PlanTargets PlanTargets::parse(const std::string& list) {
  PlanTargets t;
  for (const std::string& one : split_fields(list)) {
    if (one.empty()) throw InputError("--target " + list + ": an empty target in the list");
    t.all.push_back(PlanTarget::parse(one));
  }
  if (t.all.empty()) throw InputError("--target: expected at least one target");
  return t;
}

bool PlanTargets::meets(const Json& s) const {
  return std::all_of(all.begin(), all.end(), [&](const PlanTarget& t) { return t.meets(s); });
}

std::vector<std::string> PlanTargets::missed(const Json& s) const {
  std::vector<std::string> out;
  for (const PlanTarget& t : all)
    if (!t.meets(s)) out.push_back(t.text);
  return out;
}

std::string PlanTargets::text() const {
  std::string out;
  for (const PlanTarget& t : all) out += (out.empty() ? "" : ",") + t.text;
  return out;
}

bool PlanTargets::uses_slo() const {
  return std::any_of(all.begin(), all.end(),
                     [](const PlanTarget& t) { return t.metric == "attainment" || t.metric == "goodput"; });
}

double PlanTarget::value(const Json& summary) const {
  const Json& s = window.empty() ? summary : summary.at("windows").at(window);
  if (metric == "attainment") return s["slo"]["attainment"].get<double>();
  if (metric == "goodput") return s["goodput"]["requests_per_s"].get<double>();
  if (metric == "throughput") return s["throughput"]["output_tokens_per_s"].get<double>();
  return s[metric + "_s"][stat].get<double>();
}

namespace {
std::string fmt_with(double v, const char* f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
}  // namespace


namespace {

// The node group of `kind`: its size and count.
void nodes_of_kind(CountKnob& k, const Scenario& sc, const std::string& kind) {
  for (const NodeGroupSpec& n : sc.cluster.node_groups()) {
    if (n.gpu.name != kind) continue;
    k.gpus_per_node = n.gpus_per_node;
    k.nodes = n.nodes;
    return;
  }
}

CountKnob count_knob(const std::string& vary, const Json& base, const Scenario& sc) {
  CountKnob k;
  if (vary == "workload.rate_scale") return k;
  const std::string prefix = "deployment.groups.", suffix = ".count";
  const bool grouped = base.contains("deployment") && base["deployment"].contains("groups");
  if (vary == "deployment.instances") {
    if (grouped)
      throw InputError("--vary deployment.instances: the scenario lists deployment.groups; vary one group's count "
                       "(deployment.groups.<name>.count)");
    k.group = 0;
    k.override_path = vary;
  } else if (vary.size() > prefix.size() + suffix.size() && vary.rfind(prefix, 0) == 0 &&
             vary.compare(vary.size() - suffix.size(), suffix.size(), suffix) == 0) {
    const std::string name = vary.substr(prefix.size(), vary.size() - prefix.size() - suffix.size());
    if (!grouped) throw InputError("--vary " + vary + ": the scenario has no deployment.groups");
    for (std::size_t i = 0; i < sc.deployment.groups.size(); ++i)
      if (sc.deployment.groups[i].name == name || std::to_string(i) == name) k.group = static_cast<int>(i);
    if (k.group < 0) {
      std::string names;
      for (const auto& g : sc.deployment.groups) names += (names.empty() ? "" : ", ") + g.name;
      throw InputError("--vary " + vary + ": no instance group named " + name + " (groups: " + names + ")");
    }
    k.override_path = prefix + std::to_string(k.group) + suffix;
  } else {
    throw InputError("--vary: expected deployment.instances, deployment.groups.<name>.count or workload.rate_scale, got " +
                     vary);
  }
  const DeploymentGroup& g = sc.deployment.groups[k.group];
  k.tp = g.engine.tp;
  for (std::size_t i = 0; i < sc.deployment.groups.size(); ++i)
    if (static_cast<int>(i) != k.group && sc.deployment.groups[i].hardware.gpu.name == g.hardware.gpu.name)
      k.other_gpus += sc.deployment.groups[i].gpu_count();
  nodes_of_kind(k, sc, g.hardware.gpu.name);
  return k;
}

}  // namespace

// The answer over seeds: a value is feasible when at least ceil(quantile x N) seeds meet the
// targets there. Each seed's own search gives the least count (or the highest rate) it meets
// at; assuming each is monotone, the answer is the order statistic of those, and their range
// is the answer's spread. The chosen seed's probe gives the GPUs and dollars.
static Json over_seeds(const std::vector<Json>& per_seed, double quantile, std::uint64_t first_seed, bool instances) {
  const auto n = static_cast<int>(per_seed.size());
  const int need = std::max(1, static_cast<int>(std::ceil(quantile * n - 1e-9)));
  // Seeds ordered from the best answer to the worst; a seed with no answer is the worst.
  std::vector<int> order(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  auto better = [&](int a, int b) {
    const Json& va = per_seed[static_cast<std::size_t>(a)]["value"];
    const Json& vb = per_seed[static_cast<std::size_t>(b)]["value"];
    if (va.is_null()) return false;
    if (vb.is_null()) return true;
    return instances ? va.get<double>() < vb.get<double>() : va.get<double>() > vb.get<double>();
  };
  std::stable_sort(order.begin(), order.end(), better);
  const int chosen = order[static_cast<std::size_t>(need - 1)];
  Json r = per_seed[static_cast<std::size_t>(chosen)];
  Json seeds = Json::array(), probes = Json::array();
  Json lo, hi;
  int met = 0;
  for (int i = 0; i < n; ++i) {
    const Json& s = per_seed[static_cast<std::size_t>(i)];
    const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(i);
    seeds.push_back({{"seed", seed}, {"value", s["value"]}, {"reason", s["reason"]}});
    for (Json p : s["probes"]) {
      p["seed"] = seed;
      probes.push_back(std::move(p));
    }
    if (s["value"].is_null()) continue;
    ++met;
    const double v = s["value"].get<double>();
    if (lo.is_null() || v < lo.get<double>()) lo = s["value"];
    if (hi.is_null() || v > hi.get<double>()) hi = s["value"];
  }
  r["seeds"] = seeds;
  r["spread"] = {{"min", lo}, {"max", hi}, {"seeds_with_an_answer", met}};
  r["probes"] = probes;
  const std::string spread = met == n && lo == hi
                                 ? "every seed answers " + lo.dump()
                                 : "seed " + std::to_string(first_seed + static_cast<std::uint64_t>(chosen)) +
                                       " binds; the seeds' answers span " + (lo.is_null() ? "-" : lo.dump()) + " to " +
                                       (hi.is_null() ? "-" : hi.dump());
  r["reason"] = r["reason"].get<std::string>() + "; " + std::to_string(need) + " of " + std::to_string(n) +
                " seeds must meet (" + spread + ")";
  return r;
}

namespace {

// Runs fn(0) .. fn(items - 1) on up to `threads` threads. An interruption stops the workers and
// is rethrown once all are back; otherwise the first error is rethrown as an InputError.
void parallel_for(std::size_t items, int threads, const std::function<void(std::size_t)>& fn) {
  std::mutex mu;
  std::string error;
  std::size_t next = 0;
  auto worker = [&] {
    for (;;) {
      std::size_t i = 0;
      {
        std::lock_guard<std::mutex> l(mu);
        if (next >= items) return;
        i = next++;
      }
      try {
        fn(i);
      } catch (const Interrupted&) {
        return;  // the signal is still recorded: rethrown once every worker is back
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> l(mu);
        if (error.empty()) error = e.what();
      }
    }
  };
  run_interruptible_workers(std::max(1, std::min<int>(threads, static_cast<int>(items))), worker);
  throw_if_interrupted();
  if (!error.empty()) throw InputError(error);
}

// The largest rate a count carries may exceed the rate it was sized for many times over; the
// headroom search stops at this multiple of it.
constexpr double kMaxHeadroom = 16;

// What every plan.json says of the question: the scenario, the targets, what was varied, the
// headroom, the per-request SLO (only where a target counts requests meeting it) and the seeds.
Json plan_head(const Scenario& sc, const PlanOptions& opt, const PlanTargets& target) {
  Json plan;
  plan["scenario"] = sc.name;
  plan["target"] = target.text();
  plan["targets"] = Json::array();
  for (const PlanTarget& t : target.all) plan["targets"].push_back(t.text);
  plan["vary"] = opt.vary;
  if (opt.headroom != 1) plan["headroom"] = {{"factor", opt.headroom}, {"rate_scale", sc.workload.rate_scale}};
  if (target.uses_slo()) plan["slo"] = {{"ttft_s", sc.slo.ttft_s}, {"tpot_s", sc.slo.tpot_s}};
  if (opt.seeds > 1) plan["seeds"] = {{"count", opt.seeds}, {"first", sc.seed}, {"quantile", opt.seed_quantile}};
  return plan;
}

// One plan of one deployment shape: `base` is the scenario with every shape key and the
// headroom applied.
Json plan_one(const Json& base, const TracePaths& paths, const PlanOptions& opt, const PlanTargets& target) {
  const Scenario sc = scenario_from_json(base, paths);
  const CountKnob knob = count_knob(opt.vary, base, sc);
  std::vector<std::string> policies = opt.policies.empty() ? std::vector<std::string>{sc.policy_name} : opt.policies;
  double lo = opt.min, hi = opt.max;
  if (lo < 0 || hi < 0) throw InputError("--min/--max: expected positive bounds (or 0 for the default)");
  if (lo > 0 && hi > 0 && lo > hi)
    throw InputError("--min/--max: --min " + fmt_with(lo, "%g") + " is above --max " + fmt_with(hi, "%g"));
  if (!knob.override_path.empty()) {
    const DeploymentGroup& g = sc.deployment.groups[knob.group];
    if (lo <= 0) lo = 1;
    if (hi <= 0) hi = static_cast<double>(std::max((knob.nodes * knob.gpus_per_node - knob.other_gpus) / knob.tp,
                                                   4LL * std::max(1, g.count)));
    if (lo > hi) throw InputError("--min/--max: empty instance range");
    // The search adds nodes as the count grows; the largest count must fit a cluster kunsim takes.
    const double nodes = std::ceil((static_cast<double>(knob.other_gpus) + hi * static_cast<double>(knob.tp)) /
                                   static_cast<double>(knob.gpus_per_node));
    if (nodes > static_cast<double>(kMaxClusterNodes))
      throw InputError("--max: " + fmt_with(hi, "%g") + " instances of " + std::to_string(knob.tp) + " GPUs need " +
                       fmt_with(nodes, "%.0f") + " nodes of " + std::to_string(knob.gpus_per_node) +
                       " GPUs, past the " + std::to_string(kMaxClusterNodes) + " nodes a cluster may have");
  } else {
    if (lo <= 0) lo = 0.25;
    if (hi <= 0) hi = 4096;
    if (lo > hi) throw InputError("--min/--max: empty rate_scale range");
  }
  // Each policy and seed (sc.seed, sc.seed + 1, ...) on its own scenario.
  const auto seeds = static_cast<std::size_t>(opt.seeds);
  auto scenario_of = [&](const std::string& policy, std::size_t seed_index) {
    Json b = base;
    apply_override(b, "policy.name=" + policy);
    if (opt.seeds > 1) apply_override(b, "seed=" + std::to_string(sc.seed + seed_index));
    return b;
  };
  // One search per policy and seed, run on the pool.
  std::map<std::string, std::vector<Json>> results;
  for (const auto& p : policies) results[p].resize(seeds);
  std::mutex mu;
  parallel_for(policies.size() * seeds, opt.threads, [&](std::size_t item) {
    const std::string& policy = policies[item / seeds];
    try {
      Search search(scenario_of(policy, item % seeds), paths, opt, target, knob);
      Json r = !knob.override_path.empty() ? search.instances(lo, hi) : search.rate(lo, hi);
      std::lock_guard<std::mutex> l(mu);
      results[policy][item % seeds] = std::move(r);
    } catch (const InputError& e) {
      throw InputError("policy " + policy + ": " + e.what());
    }
  });
  Json answers = Json::object();
  for (const auto& p : policies)
    answers[p] =
        opt.seeds > 1 ? over_seeds(results[p], opt.seed_quantile, sc.seed, !knob.override_path.empty()) : results[p][0];
  // Headroom: at each answer's count, the highest rate_scale still meeting the targets (each
  // seed's, then the same order statistic as the answer), over the rate it was sized for.
  if (!knob.override_path.empty()) {
    const double sized_for = sc.workload.rate_scale;
    std::map<std::string, std::vector<Json>> rates;
    for (const auto& p : policies) rates[p].resize(seeds);
    PlanOptions by_rate = opt;
    by_rate.vary = "workload.rate_scale";
    parallel_for(policies.size() * seeds, opt.threads, [&](std::size_t item) {
      const std::string& policy = policies[item / seeds];
      const Json& count = std::as_const(answers).at(policy).at("value");  // read by every thread
      if (count.is_null()) return;
      Search at_count(scenario_of(policy, item % seeds), paths, opt, target, knob);
      Search search(at_count.at(count.get<double>()).first, paths, by_rate, target, CountKnob{});
      Json r = search.rate(sized_for, sized_for * kMaxHeadroom);
      std::lock_guard<std::mutex> l(mu);
      rates[policy][item % seeds] = std::move(r);
    });
    for (const auto& p : policies) {
      Json& answer = answers[p];
      if (answer["value"].is_null()) continue;
      const Json rate = opt.seeds > 1 ? over_seeds(rates[p], opt.seed_quantile, sc.seed, false) : rates[p][0];
      if (rate["value"].is_null()) continue;  // a seed quantile below 1: the chosen count may miss at some seeds
      const double max_rate = rate["value"].get<double>();
      answer["headroom"] = {{"max_rate_scale", max_rate},
                            {"factor", max_rate / sized_for},
                            {"capped", rate["reason"].get<std::string>().rfind("met up to the maximum", 0) == 0},
                            {"probes", rate["probes"].size()}};
    }
  }
  Json plan = plan_head(sc, opt, target);
  if (sc.cluster.single_kind()) {
    if (sc.cluster.price_per_gpu_hour) plan["price_per_gpu_hour"] = *sc.cluster.price_per_gpu_hour;
    plan["gpu"] = sc.cluster.gpu.name;
  } else {  // a fleet: each kind with its price
    plan["gpus"] = Json::object();
    for (const NodeGroupSpec& k : sc.cluster.node_groups())
      plan["gpus"][k.gpu.name] = k.price_per_gpu_hour ? Json{{"price_per_gpu_hour", *k.price_per_gpu_hour}} : Json::object();
  }
  if (!knob.override_path.empty()) plan["tp"] = knob.tp;
  if (!knob.override_path.empty() && sc.deployment.groups.size() > 1)
    plan["group"] = sc.deployment.groups[knob.group].name;
  plan["policies"] = std::move(answers);
  return plan;
}

// `--vary KEY=V1,V2,...`: a shape axis (the values as `--set` takes them).
std::pair<std::string, std::vector<std::string>> shape_axis(const std::string& text) {
  const auto eq = text.find('=');
  const std::string key = text.substr(0, eq);
  std::vector<std::string> values;
  for (const std::string& v : split_fields(text.substr(eq + 1))) {
    if (v.empty()) throw InputError("--vary " + text + ": an empty value in the list");
    values.push_back(v);
  }
  if (key.empty() || values.empty()) throw InputError("--vary " + text + ": expected KEY=V1,V2,...");
  if (key == "deployment.instances" || key == "workload.rate_scale" || key == "policy.name" || key == "seed" ||
      key.rfind("deployment.groups", 0) == 0)
    throw InputError("--vary " + text + ": " + key +
                     " is not a shape axis (the count is searched, policies are --policies, seeds --seeds)");
  return {key, values};
}

// The shape search: every combination of the axes (the first axis slowest), each planned as a
// plan of its own from one instance up; a shape that cannot hold one instance is a row with the
// reason. The count range is the same GPU budget for every shape unless --max is given: the
// larger of the shape's cluster and 4x the base scenario's GPUs.
Json plan_shapes(const Json& base, const Scenario& base_sc, const TracePaths& paths, const PlanOptions& opt,
                 const PlanTargets& target) {
  if (opt.vary != "deployment.instances")
    throw InputError("--vary KEY=LIST searches deployment shapes by their fewest deployment.instances; --vary " +
                     opt.vary + " cannot be searched with it");
  if (base.contains("deployment") && base["deployment"].contains("groups"))
    throw InputError(
        "--vary KEY=LIST: the scenario lists deployment.groups; shapes are searched on a "
        "single-group deployment (deployment.instances, deployment.tp)");
  std::vector<std::pair<std::string, std::vector<std::string>>> axes;
  for (const std::string& a : opt.shapes) axes.push_back(shape_axis(a));
  const long long base_gpus = static_cast<long long>(base_sc.instances) * base_sc.engine.tp;
  std::size_t combos = 1;
  for (const auto& [k, v] : axes) combos *= v.size();
  if (combos > 256) throw InputError("--vary: " + std::to_string(combos) + " shapes, past the limit of 256");
  Json rows = Json::array();
  for (std::size_t c = 0; c < combos; ++c) {
    Json b = base, shape = Json::object();
    std::size_t rest = c;
    std::vector<std::string> assignment(axes.size());
    for (std::size_t a = axes.size(); a-- > 0;) {
      assignment[a] = axes[a].second[rest % axes[a].second.size()];
      rest /= axes[a].second.size();
    }
    for (std::size_t a = 0; a < axes.size(); ++a) {
      apply_override(b, axes[a].first + "=" + assignment[a]);
      shape[axes[a].first] = assignment[a];
    }
    apply_override(b, "deployment.instances=1");
    Json row = {{"shape", shape}};
    try {
      const Scenario one = scenario_from_json(b, paths);
      PlanOptions o = opt;
      if (o.max <= 0) {
        const long long gpus = std::max<long long>(one.cluster.total_gpus(), 4 * base_gpus);
        o.max = static_cast<double>(std::max<long long>(1, gpus / one.engine.tp));
      }
      Json p = plan_one(b, paths, o, target);
      for (const char* k : {"gpu", "price_per_gpu_hour", "tp", "policies"})
        if (p.contains(k)) row[k] = p[k];
    } catch (const InputError& e) {
      const std::string why = e.what();
      if (why.find(": unknown key") != std::string::npos) throw;  // a misspelt axis, not a shape
      row["infeasible"] = why;
    }
    rows.push_back(std::move(row));
  }
  // The cheapest feasible shape per policy: by $/hour where every shape is priced, else by GPUs.
  std::set<std::string> policies;
  for (const Json& r : rows)
    if (r.contains("policies"))
      for (auto it = r["policies"].begin(); it != r["policies"].end(); ++it) policies.insert(it.key());
  for (const std::string& p : policies) {
    std::vector<Json*> feasible;
    bool priced = true;
    for (Json& r : rows)
      if (r.contains("policies") && !r["policies"][p]["value"].is_null()) {
        feasible.push_back(&r["policies"][p]);
        priced = priced && feasible.back()->contains("dollars_per_hour");
      }
    auto cost = [&](const Json* a) { return (*a)[priced ? "dollars_per_hour" : "gpus"].get<double>(); };
    const auto best = std::min_element(feasible.begin(), feasible.end(),
                                       [&](const Json* x, const Json* y) { return cost(x) < cost(y); });
    if (best == feasible.end()) continue;
    const double least = cost(*best);
    for (Json* a : feasible)
      if (cost(a) <= least * (1 + 1e-12)) (*a)["cheapest"] = true;  // every shape tied at the least
  }
  Json plan = plan_head(base_sc, opt, target);
  plan["axes"] = Json::array();
  for (const auto& [k, v] : axes) plan["axes"].push_back({{"key", k}, {"values", v}});
  plan["shapes"] = std::move(rows);
  return plan;
}

}  // namespace

Json run_plan(const std::string& file, const std::vector<std::string>& overrides, const PlanOptions& opt) {
  return run_plan(
      file.empty() ? parse_json_text(default_scenario_text(), "scenarios/default.json") : parse_json_file(file),
      file.empty() ? "" : std::filesystem::path(file).parent_path().string(), overrides, opt);
}

Json run_plan(Json base, const std::string& scenario_dir, const std::vector<std::string>& overrides,
              const PlanOptions& opt) {
  const PlanTargets target = PlanTargets::parse(opt.target);
  for (const auto& o : overrides) apply_override(base, o);
  const TracePaths paths = trace_paths(opt.trace_dir, scenario_dir);
  if (!(opt.headroom >= 1 && opt.headroom <= 100))
    throw InputError("--headroom: expected a factor in [1, 100] on the workload's rate, got " +
                     fmt_with(opt.headroom, "%g"));
  if (opt.seeds < 1 || opt.seeds > 100)
    throw InputError("--seeds: expected 1 to 100, got " + std::to_string(opt.seeds));
  if (!(opt.seed_quantile > 0 && opt.seed_quantile <= 1))
    throw InputError("--seed-quantile: expected a fraction of the seeds in (0, 1], got " +
                     fmt_with(opt.seed_quantile, "%g"));
  if (opt.headroom != 1) {
    if (opt.vary == "workload.rate_scale")
      throw InputError(
          "--headroom: sizes instances for a rate above the workload's; with --vary workload.rate_scale "
          "the answer is the highest rate itself");
    const double scale = scenario_from_json(base, paths).workload.rate_scale * opt.headroom;
    apply_override(base, "workload.rate_scale=" + Json(scale).dump());
  }
  const Scenario sc = scenario_from_json(base, paths);  // validates before searching
  for (const PlanTarget& t : target.all) {
    if (t.window.empty()) continue;
    std::string names;
    for (const MetricWindow& w : sc.windows) names += (names.empty() ? "" : ", ") + w.name;
    if (std::none_of(sc.windows.begin(), sc.windows.end(), [&](const MetricWindow& w) { return w.name == t.window; }))
      throw InputError("--target " + t.text + ": the scenario has no metric window \"" + t.window + "\" (" +
                       (sc.windows.empty() ? std::string("it has none: metrics.windows, or workload.bursts")
                                           : "its windows: " + names) +
                       ")");
  }
  if (!opt.shapes.empty()) return plan_shapes(base, sc, paths, opt, target);
  return plan_one(base, paths, opt, target);
}

namespace {

// A policy's answer as table cells: value, GPUs, nodes, $/hour, $/M output and input tokens,
// headroom, and the result text.
struct AnswerCells {
  std::string value, gpus, nodes, per_hour, per_m_out, per_m_in, headroom, result;
};

AnswerCells answer_cells(const Json& r) {
  auto money = [&](const char* k, const char* f) {
    return r.contains(k) && r[k].is_number() ? fmt_with(r[k].get<double>(), f) : std::string("-");
  };
  AnswerCells c;
  c.value = r["value"].is_null() ? "-" : r["value"].dump();
  c.gpus = r.contains("gpus") ? r["gpus"].dump() : "-";
  c.nodes = r.contains("nodes") ? r["nodes"].dump() : "-";
  c.per_hour = money("dollars_per_hour", "%.2f");
  c.per_m_out = money("dollars_per_million_output_tokens", "%.3f");
  c.per_m_in = money("dollars_per_million_input_tokens", "%.3f");
  c.headroom = "-";
  if (r.contains("headroom"))
    c.headroom = (r["headroom"]["capped"].get<bool>() ? ">=" : "") +
                 fmt_with(r["headroom"]["factor"].get<double>(), "%.2f") + "x";
  std::string binding;
  for (const Json& b : r["binding"]) binding += (binding.empty() ? "" : ", ") + b.get<std::string>();
  c.result = r["reason"].get<std::string>() +
             (binding.empty() ? "" : (r["value"].is_null() ? "; missed: " : "; binds: ") + binding);
  return c;
}

std::string plan_header(const Json& plan, const std::string& varying) {
  std::string slo;
  if (plan.contains("slo"))
    slo = " (SLO ttft <= " + fmt_with(plan["slo"]["ttft_s"].get<double>(), "%g") +
          "s, tpot <= " + fmt_with(plan["slo"]["tpot_s"].get<double>(), "%g") + "s)";
  std::string headroom;
  if (plan.contains("headroom"))
    headroom = ", " + fmt_with(plan["headroom"]["factor"].get<double>(), "%g") + "x headroom (workload.rate_scale " +
               fmt_with(plan["headroom"]["rate_scale"].get<double>(), "%g") + ")";
  if (plan.contains("seeds")) {
    const double q = plan["seeds"]["quantile"].get<double>();
    headroom += ", over " + plan["seeds"]["count"].dump() + " seeds (" +
                (q >= 1 ? std::string("every one") : fmt_with(q, "%g") + " of them") + " must meet)";
  }
  return "plan: " + plan["scenario"].get<std::string>() + ", target " + plan["target"].get<std::string>() + slo +
         ", varying " + varying + headroom + "\n";
}

std::string cells_line(const std::string& lead, const AnswerCells& c) {
  char line[1024];
  std::snprintf(line, sizeof line, "%s %9s %6s %6s %9s %9s %9s %9s  %s\n", lead.c_str(), c.value.c_str(),
                c.gpus.c_str(), c.nodes.c_str(), c.per_hour.c_str(), c.per_m_out.c_str(), c.per_m_in.c_str(),
                c.headroom.c_str(), c.result.c_str());
  return line;
}

const AnswerCells kColumnNames{"value", "GPUs", "nodes", "$/hour", "$/M out", "$/M in", "headroom", "result"};

}  // namespace

std::string plan_table(const Json& plan) {
  char lead[256];
  if (!plan.contains("shapes")) {
    std::string out = plan_header(plan, plan["vary"].get<std::string>());
    std::snprintf(lead, sizeof lead, "%-12s", "policy");
    out += cells_line(lead, kColumnNames);
    for (auto it = plan["policies"].begin(); it != plan["policies"].end(); ++it) {
      AnswerCells c = answer_cells(it.value());
      c.result = std::to_string(it.value()["probes"].size()) + " probes; " + c.result;
      std::snprintf(lead, sizeof lead, "%-12s", it.key().c_str());
      out += cells_line(lead, c);
    }
    return out;
  }
  // A shape search: one row per shape and policy, the cheapest per policy marked *.
  std::string axes;
  for (const Json& a : plan["axes"]) axes += (axes.empty() ? "" : " x ") + a["key"].get<std::string>();
  std::string out = plan_header(plan, "the fewest " + plan["vary"].get<std::string>() + " over " +
                                          std::to_string(plan["shapes"].size()) + " shapes (" + axes + ")");
  auto shape_text = [](const Json& shape) {
    std::string t;
    for (auto it = shape.begin(); it != shape.end(); ++it) {
      if (!t.empty()) t += ' ';
      t += it.value().get<std::string>();
    }
    return t;
  };
  std::size_t width = 8;
  for (const Json& r : plan["shapes"]) width = std::max(width, shape_text(r["shape"]).size());
  const auto w = static_cast<int>(width);
  std::snprintf(lead, sizeof lead, "%-*s %-12s", w, "shape", "policy");
  AnswerCells names = kColumnNames;
  names.value = "instances";
  out += cells_line(lead, names);
  for (const Json& r : plan["shapes"]) {
    const std::string shape = shape_text(r["shape"]);
    if (r.contains("infeasible")) {
      std::snprintf(lead, sizeof lead, "%-*s %-12s", w, shape.c_str(), "-");
      out += lead + std::string("  infeasible: ") + r["infeasible"].get<std::string>() + "\n";
      continue;
    }
    for (auto it = r["policies"].begin(); it != r["policies"].end(); ++it) {
      const bool cheapest = it.value().value("cheapest", false);
      std::snprintf(lead, sizeof lead, "%-*s %-12s", w, shape.c_str(), (it.key() + (cheapest ? " *" : "")).c_str());
      out += cells_line(lead, answer_cells(it.value()));
    }
  }
  const bool priced = std::any_of(plan["shapes"].begin(), plan["shapes"].end(),
                                  [](const Json& r) { return r.contains("price_per_gpu_hour"); });
  out += std::string("* the cheapest shape for the policy") + (priced ? " ($/hour)\n" : " (fewest GPUs: no prices)\n");
  return out;
}

}  // namespace kunsim
