#include "run/scenario.hpp"

#include <cstdlib>
#include <filesystem>

#include "sim/cost/cost_choice.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/dispatcher.hpp"

namespace kunsim {
namespace embedded {
extern const std::string_view default_scenario;
}

std::string default_scenario_text() { return std::string(embedded::default_scenario); }


Scenario scenario_from_json(const Json& root, const TracePaths& paths) {
  JsonFields f(root, "");
  Scenario s;
  s.resolved = root;
  s.name = f.string("name", "scenario");
  if (s.name.empty() || s.name.find_first_of("/\\") != std::string::npos || s.name == "." || s.name == "..")
    throw InputError("name: expected a non-empty name without path separators");
  f.string("description", "");
  s.seed = static_cast<std::uint64_t>(f.integer("seed", static_cast<std::int64_t>(s.seed), 0, (1LL << 62)));

  // Model: a catalogue name or an inline spec.
  const Json& mj = f.required_child("model");
  if (mj.is_string()) s.model = find_model(mj.get<std::string>(), "model");
  else if (mj.is_object()) s.model = model_from_json(mj, "model", "custom");
  else f.fail("model", "a model name or an object");

  static const Json kEmpty = Json::object();
  const Json* cj = f.child("cluster");
  s.cluster = cluster_from_json(cj ? *cj : kEmpty, "cluster");

  const Json* dj = f.child("deployment");
  JsonFields d(dj ? *dj : kEmpty, "deployment");
  s.instances = static_cast<int>(d.integer("instances", s.instances, 1, 65536));
  s.engine.tp = static_cast<int>(d.integer("tp", s.engine.tp, 1, 64));
  s.engine.gpu_memory_utilization = d.number("gpu_memory_utilization", s.engine.gpu_memory_utilization, 0.05, 1.0);
  s.engine.block_size = static_cast<int>(d.integer("block_size", s.engine.block_size, 1, 4096));
  if (s.engine.block_size != 1 && (s.engine.block_size < 8 || s.engine.block_size > 128 ||
                                   (s.engine.block_size & (s.engine.block_size - 1)) != 0))
    throw InputError(d.path_of("block_size") + ": " + std::to_string(s.engine.block_size) +
                     " is not a block size vLLM accepts (1, 8, 16, 32, 64 or 128)");
  s.engine.max_num_seqs = static_cast<int>(d.integer("max_num_seqs", s.engine.max_num_seqs, 1, 1 << 16));
  s.engine.max_num_batched_tokens = static_cast<int>(d.integer("max_num_batched_tokens", s.engine.max_num_batched_tokens, 1, 1 << 22));
  // vLLM's default is the model's native context, and it refuses a longer one.
  s.engine.max_model_len = static_cast<int>(d.integer("max_model_len", s.model.max_model_len, 2, 1 << 24));
  if (s.engine.max_model_len > s.model.max_model_len)
    throw InputError(d.path_of("max_model_len") + ": " + std::to_string(s.engine.max_model_len) + " exceeds " +
                     s.model.name + "'s context of " + std::to_string(s.model.max_model_len) +
                     " tokens (vLLM refuses it; use a long-context model such as llama-3.1-8b)");
  s.engine.watermark = d.number("watermark", s.engine.watermark, 0, 0.5);
  s.engine.enable_prefix_caching = d.boolean("enable_prefix_caching", s.engine.enable_prefix_caching);
  if (d.has("workspace_gib"))
    s.engine.workspace_bytes = static_cast<std::int64_t>(d.number("workspace_gib", 0, 1024) * static_cast<double>(kGiB));
  s.swap_space_bytes = d.number("swap_space_gib", s.swap_space_bytes / static_cast<double>(kGiB), 0, 1 << 20) * static_cast<double>(kGiB);
  s.dispatch = d.string("dispatch", s.dispatch);
  dispatcher_registry().at(s.dispatch, d.path_of("dispatch"));  // known now, not at run time
  s.dispatch_params.load_report_interval = seconds_to_ns(
      d.number("load_report_interval_s", ns_to_seconds(s.dispatch_params.load_report_interval), 1e-3, 3600));
  s.frontend_s = d.number("frontend_s", s.frontend_s, 0, 3600);
  d.finish();
  if (s.engine.max_num_batched_tokens < s.engine.max_num_seqs)
    throw InputError("deployment.max_num_batched_tokens: must be >= max_num_seqs (" +
                     std::to_string(s.engine.max_num_seqs) + "): every running decode needs a token each step");
  if (s.cluster.gpus_per_node % s.engine.tp != 0)
    throw InputError("deployment.tp: " + std::to_string(s.engine.tp) + " does not divide cluster.gpus_per_node (" +
                     std::to_string(s.cluster.gpus_per_node) + "): an instance must sit inside one node");
  if (s.model.heads % s.engine.tp != 0)
    throw InputError("deployment.tp: " + std::to_string(s.engine.tp) + " does not divide the model's " +
                     std::to_string(s.model.heads) + " attention heads");
  if (static_cast<std::int64_t>(s.instances) * s.engine.tp > s.cluster.total_gpus())
    throw InputError("deployment.instances: " + std::to_string(s.instances) + " instances x tp " +
                     std::to_string(s.engine.tp) + " need " + std::to_string(s.instances * s.engine.tp) +
                     " GPUs, the cluster has " + std::to_string(s.cluster.total_gpus()));
  s.memory = make_memory_plan(s.model, s.engine, s.cluster.gpu.memory_bytes, "deployment");

  const CostSpec cost = cost_spec_from_json(f.child("cost"), "cost");
  s.cost = cost.roofline;
  const CostChoice choice = choose_cost(cost, s.model, s.cluster, s.engine.tp, paths.scenario_dir);
  s.cost_model = choice.model;
  s.cost_source = choice.source;
  s.profile = choice.profile;

  const Json* pj = f.child("policy");
  s.policy = pj ? *pj : Json::object();
  s.make_policy = policy_maker(s.policy, "policy");
  s.policy_name = s.make_policy()->name();

  s.workload = workload_from_json(f.required_child("workload"), "workload", paths);
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

  if (const Json* sj = f.child("slo")) {
    JsonFields sf(*sj, "slo");
    s.slo.ttft_s = sf.number("ttft_s", s.slo.ttft_s, 0, 1e6);
    s.slo.tpot_s = sf.number("tpot_s", s.slo.tpot_s, 0, 1e6);
    sf.finish();
  }
  if (const Json* rj = f.child("sim")) {
    JsonFields rf(*rj, "sim");
    s.timeline_interval_s = rf.number("timeline_interval_s", 1.0, 1e-3, 1e6);
    if (rf.has("max_time_s")) s.max_time_s = rf.number("max_time_s", 1e-3, 1e9);
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

}  // namespace kunsim
