#include "run/scenario.hpp"

#include <cstdlib>
#include <filesystem>

#include "sim/policy/policy_registry.hpp"
#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {
namespace embedded {
extern const std::string_view default_scenario;
}

std::string default_scenario_text() { return std::string(embedded::default_scenario); }


Scenario scenario_from_json(const Json& root, const TracePaths& paths) {
  JsonFields f(root, "");
  Scenario s;
  s.resolved = root;
  s.name = f.string("name", "scenario", Help{"the output folder's name"});
  if (s.name.empty() || s.name.find_first_of("/\\") != std::string::npos || s.name == "." || s.name == "..")
    throw InputError("name: expected a non-empty name without path separators");
  f.string("description", "", Help{"free text"});
  s.seed =
      static_cast<std::uint64_t>(f.integer("seed", static_cast<std::int64_t>(s.seed), 0, (1LL << 62),
                                           Help{"RNG seed: the same scenario and seed give byte-identical outputs"}));

  // Model: a catalogue name or an inline spec.
  const Json& mj =
      f.required_child("model", Help{"a catalogue name (kunsim models) or an inline spec"}, "string or object");
  if (mj.is_string()) s.model = find_model(mj.get<std::string>(), "model");
  else if (mj.is_object()) s.model = model_from_json(mj, "model", "custom");
  else f.fail("model", "a model name or an object");

  static const Json kEmpty = Json::object();
  const Json* cj = f.child("cluster", Help{"the hardware"});
  s.cluster = cluster_from_json(cj ? *cj : kEmpty, "cluster");

  const Json* dj = f.child("deployment", Help{"the instances and their engine knobs"});
  s.deployment = deployment_from_json(
      {dj, f.child("cost", Help{"what prices an iteration"}), s.model, s.cluster, paths.scenario_dir});
  s.model = s.deployment.model;
  const DeploymentGroup& first = s.deployment.groups.front();
  s.engine = s.deployment.defaults;
  s.instances = 0;
  for (const auto& g : s.deployment.groups) s.instances += g.count;
  s.memory = first.memory;
  s.cost = first.cost;
  s.cost_model = first.cost_model;
  s.cost_source = first.cost_source;
  s.profile = first.profile;

  const Json* pj = f.child("policy", Help{"the memory-overload policy and its knobs"});
  s.policy = pj ? *pj : Json::object();
  s.make_policy = policy_maker(s.policy, "policy");
  s.workload = workload_from_json(f.required_child("workload", Help{"one of trace, synthetic, profile, then shaping"}),
                                  "workload", paths);
  if (s.workload.sharing && s.workload.sharing->hash_block_tokens % s.engine.block_size != 0)
    throw InputError("workload.sharing.hash_block_tokens: " + std::to_string(s.workload.sharing->hash_block_tokens) +
                     " is not a multiple of deployment.block_size (" + std::to_string(s.engine.block_size) +
                     "); prefix caching needs whole KV blocks");
  if (s.workload.kind == WorkloadSpec::Kind::Synthetic)
    for (const auto& [dist, key] : {std::pair{&s.workload.input, "input_tokens"}, std::pair{&s.workload.output, "output_tokens"}})
      if (dist->max_given() && dist->max() > s.engine.max_model_len)
        throw InputError(std::string("workload.synthetic.") + key + ".max: " + std::to_string(dist->max()) +
                         " exceeds max_model_len " + std::to_string(s.engine.max_model_len) + " (" + s.model.name +
                         "): every request that long would be rejected");

  if (const Json* sj = f.child("slo", Help{"per-request service-level objectives"})) {
    JsonFields sf(*sj, "slo");
    s.slo.ttft_s = sf.number("ttft_s", s.slo.ttft_s, 0, 1e6, Help{"time-to-first-token SLO, seconds"});
    s.slo.tpot_s = sf.number("tpot_s", s.slo.tpot_s, 0, 1e6, Help{"time-per-output-token SLO, seconds (at most 10)"});
    // Seconds per token: over 10 s is no latency target, most likely milliseconds given as seconds.
    if (s.slo.tpot_s > 10)
      throw InputError("slo.tpot_s: " + format_number(s.slo.tpot_s) +
                       " s per output token is no latency target (at most 10 s; in milliseconds? " +
                       format_number(s.slo.tpot_s / 1000) + " s is " + format_number(s.slo.tpot_s) + " ms)");
    sf.finish();
  }
  {
    // The policy fitted to the deployment (defaults that follow from it), and refused where it
    // cannot serve it.
    FleetShape shape{.groups = static_cast<int>(s.deployment.groups.size()),
                     .disaggregated = s.deployment.disaggregated(),
                     .largest_group = 0,
                     .counts = {},
                     .tpot_slo_s = s.slo.tpot_s,
                     .speculative = s.engine.speculative.on(),
                     .expert_parallel = s.model.expert_parallel,
                     .sliding_window = s.model.sliding_window.on()};
    for (const auto& g : s.deployment.groups) {
      shape.largest_group = std::max(shape.largest_group, g.count);
      shape.counts.push_back(g.count);
    }
    s.make_policy = [maker = std::move(s.make_policy), shape] {
      auto policy = maker();
      policy->fit(shape);
      return policy;
    };
    const auto policy = s.make_policy();
    s.policy_name = policy->name();
    const std::string why = policy->fleet_refusal(shape);
    if (!why.empty()) {
      // A refusal that starts with one of the section's keys ("group_size: ...") names that key.
      const auto colon = why.find(": ");
      if (colon != std::string::npos && pj && pj->contains(why.substr(0, colon))) throw InputError("policy." + why);
      throw InputError((pj && pj->contains("name") ? "policy.name" : "policy") + std::string(": ") + why);
    }
  }
  s.windows = metric_windows_from_json(f.child("metrics", Help{"what a run measures beyond the whole-run figures"}),
                                       s.workload);
  if (const Json* rj = f.child("sim", Help{"simulation settings"})) {
    JsonFields rf(*rj, "sim");
    s.timeline_interval_s =
        rf.number("timeline_interval_s", 1.0, 1e-3, 1e6, Help{"seconds between timeline.csv samples"});
    if (rf.has("max_time_s"))
      s.max_time_s = rf.number("max_time_s", 1e-3, 1e9,
                               Help{"stop the run at this simulated time", "none: when every request is done"});
    rf.finish();
  }
  f.finish();
  return s;
}

Scenario load_scenario(const std::string& file, const std::vector<std::string>& overrides, const std::string& trace_dir) {
  Json root = file.empty() ? parse_json_text(default_scenario_text(), "scenarios/default.json") : parse_json_file(file);
  for (const auto& o : overrides) apply_override(root, o);
  return scenario_from_json(root, trace_paths(trace_dir, file.empty() ? "" : std::filesystem::path(file).parent_path().string()));
}

Scenario load_scenario_text(const std::string& text, const std::string& origin,
                            const std::vector<std::string>& overrides, const std::string& trace_dir) {
  Json root = parse_json_text(text, origin);
  for (const auto& o : overrides) apply_override(root, o);
  return scenario_from_json(root, trace_paths(trace_dir, ""));
}

std::vector<std::string> scenario_inputs(const std::string& file, const Scenario& sc) {
  std::vector<std::string> in{file};
  if (sc.workload.kind == WorkloadSpec::Kind::Trace) in.push_back(sc.workload.trace_path);
  return in;
}

}  // namespace kunsim
