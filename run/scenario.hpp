// Scenario: a whole what-if question, validated into plain read-only structs before anything
// runs: model, cluster, deployment (vLLM knobs and instance count), cost model, overload
// policy, workload, SLO and run options. Every error names its JSON path. `resolved` keeps the
// JSON after --set overrides, so outputs can say exactly what ran.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "run/deployment.hpp"
#include "run/metric_windows.hpp"
#include "sim/cluster/cluster_spec.hpp"
#include "sim/core/json_fields.hpp"
#include "sim/cost/profile.hpp"
#include "sim/cost/roofline_params.hpp"
#include "sim/metrics/request_metrics.hpp"
#include "sim/model/engine_params.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/dispatch/dispatcher.hpp"
#include "traces/workload.hpp"

namespace kunsim {

struct Scenario {
  std::string name;
  std::uint64_t seed = 1;
  ModelSpec model;
  ClusterSpec cluster;
  // The instance groups, placed, with dispatch and the front end. The fields below it
  // summarise it for single-form readers: `engine` is the deployment-wide knobs, `instances`
  // the count over all groups, and memory and cost are the first group's.
  Deployment deployment;
  EngineParams engine;
  int instances = 1;
  MemoryPlan memory;
  RooflineParams cost;
  std::string cost_model = "roofline";  // or "profile": what cost.model (default "auto") resolved to
  std::string cost_source;              // why: which profile, or why the roofline (for summaries)
  std::shared_ptr<const Profile> profile;  // set when cost_model is "profile"

  Json policy;               // the section as given
  PolicyMaker make_policy;   // its parameters, parsed once; a fresh policy per run
  std::string policy_name;
  WorkloadSpec workload;
  Slo slo;
  std::vector<MetricWindow> windows;  // metrics.windows and the bursts (run/metric_windows.hpp)
  double timeline_interval_s = 1.0;
  std::optional<double> max_time_s;
  Json resolved;
};

// Validates `root` (after overrides). Throws InputError naming the JSON path.
Scenario scenario_from_json(const Json& root, const TracePaths& paths);
// Reads a scenario file (or the embedded default when `file` is empty) and applies `--set`s.
Scenario load_scenario(const std::string& file, const std::vector<std::string>& overrides, const std::string& trace_dir);
// A scenario given as JSON text instead of a file (the Python module's dicts and strings):
// `origin` names it in errors, and relative trace paths resolve against `trace_dir`, else the
// working folder.
Scenario load_scenario_text(const std::string& text, const std::string& origin,
                            const std::vector<std::string>& overrides, const std::string& trace_dir);
// What a run of `sc` (read from `file`, "" for text) reads, which its output folder may never
// hold: the scenario file and its trace.
std::vector<std::string> scenario_inputs(const std::string& file, const Scenario& sc);
// The text of scenarios/default.json as shipped in the binary.
std::string default_scenario_text();

}  // namespace kunsim
