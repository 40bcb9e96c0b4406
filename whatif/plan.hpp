// Plan: capacity search. For each policy, the fewest `deployment.instances` (on a fleet: of one
// named group, `deployment.groups.<name>.count`), or the highest `workload.rate_scale`, whose
// run meets the scenario's SLO attainment target. Probes report GPUs, by kind on a fleet, and
// dollars where every kind has a price. The knob is
// assumed monotone (more instances or less load never lowers attainment), so the search is
// a bisection: over integers for instances (nodes of the scenario's kind are added when the
// instances outgrow its cluster); for rates, doubling until it fails, then bisection to 1%
// relative width. Every probe is recorded in plan.json.
#pragma once
#include <string>
#include <vector>

#include "run/scenario.hpp"

namespace kunsim {

// What a plan must meet: SLO attainment (a bare number, or `attainment>=X`), a latency bound
// (`ttft.p99<=2`, `tpot.mean<=0.05`, `itl.p99<=0.1`, `e2e.p50<=10`, `queue.p99<=1`), goodput (`goodput>=X`,
// requests/s meeting every SLO) or output throughput (`throughput>=X`, tokens/s). Attainment and
// latencies may name a metric window first (`burst.ttft.p99<=2`, `burst.attainment>=0.9`).
struct PlanTarget {
  std::string text;    // as given
  std::string metric;  // "attainment", "goodput", "throughput", or a latency ("ttft", ...)
  std::string stat;    // for latencies: mean, p50, p90, p95, p99, p999, max
  // A metric window's name (`burst.ttft.p99<=2`): the figure is the window's (WindowMetrics);
  // empty: the whole run's.
  std::string window;
  double bound = 0.99;
  bool at_most = false;  // latencies: value <= bound; the others: value >= bound
  static PlanTarget parse(const std::string& text);
  double value(const Json& summary) const;
  bool meets(const Json& summary) const { return at_most ? value(summary) <= bound : value(summary) >= bound; }
};

// Several targets, all to be met: `--target` given more than once, or a comma list
// (`ttft.p99<=2,tpot.mean<=0.05`). The one a search's answer barely passes binds it: the targets
// missed at the nearest probe that failed.
struct PlanTargets {
  std::vector<PlanTarget> all;
  static PlanTargets parse(const std::string& comma_list);
  bool meets(const Json& summary) const;
  std::vector<std::string> missed(const Json& summary) const;  // their texts
  std::string text() const;                                    // comma-joined
  // Whether the scenario's per-request SLO enters a target (attainment and goodput count the
  // requests meeting it), so the answer must show it.
  bool uses_slo() const;
};

struct PlanOptions {
  std::string target = "0.99";  // one target, or several as a comma list (PlanTargets)
  std::string vary = "deployment.instances";
  // Shape axes, `KEY=V1,V2,...` (`cluster.gpu=h100-sxm,h200`, `deployment.tp=2,4,8`): every
  // combination is planned on its own and the answer is a table of shapes, the cheapest marked.
  std::vector<std::string> shapes;
  std::vector<std::string> policies;  // empty: the scenario's own policy
  double min = 0, max = 0;            // 0: defaults (instances 1..max(cluster, 4x); rate 0.25..4096)
  int threads = 1;
  std::string trace_dir;
  bool force = false;  // lift the run limits (run/run_limits.hpp) in every probe
  // Instances sized for this many times the workload's rate (workload.rate_scale multiplied by
  // it in every probe): room for growth or a burst the trace does not hold. 1: none.
  double headroom = 1;
  // Each policy searched once per seed (the scenario's seed and the next seeds - 1); a value is
  // feasible when at least seed_quantile of the seeds meet the targets there (1: every seed).
  int seeds = 1;
  double seed_quantile = 1;
};

// Returns plan.json's content; throws InputError for bad options.
Json run_plan(const std::string& scenario_file, const std::vector<std::string>& overrides, const PlanOptions& opt);
// The same for a scenario given as JSON (the Python module): relative trace paths resolve
// against `scenario_dir` (empty: the working folder) unless opt.trace_dir is given.
Json run_plan(Json scenario, const std::string& scenario_dir, const std::vector<std::string>& overrides,
              const PlanOptions& opt);
std::string plan_table(const Json& plan);

}  // namespace kunsim
