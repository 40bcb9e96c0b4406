#include "run/deployment.hpp"

#include <algorithm>
#include <set>

#include "sim/cost/cost_choice.hpp"
#include "sim/cost/speculative_cost_model.hpp"
#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {

ClusterSpec DeploymentGroup::hardware_spec() const {
  ClusterSpec c;
  static_cast<NodeGroupSpec&>(c) = hardware;
  return c;
}

bool Deployment::disaggregated() const {
  for (const auto& g : groups)
    if (g.role != InstanceRole::Mixed) return true;
  return false;
}

bool Deployment::prefix_caching() const {
  for (const auto& g : groups)
    if (g.engine.enable_prefix_caching) return true;
  return false;
}

namespace {

constexpr const char* kVllmDefaultSeqs = "vLLM's for the GPU: 1024 on >= 70 GiB but A100, else 256";
constexpr const char* kVllmDefaultTokens = "vLLM's for the GPU: 8192 on >= 70 GiB but A100, else 2048";

// The engine knobs a group may set over the deployment's (block_size and max_model_len stay
// deployment-wide: KV hand-offs and prefix keys count in blocks of one size, and a request
// must fit wherever it is sent).
void read_engine_knobs(JsonFields& d, EngineParams& e, double& swap_space_bytes) {
  e.tp = static_cast<int>(d.integer("tp", e.tp, 1, 64, Help{"tensor-parallel degree: GPUs per instance"}));
  e.gpu_memory_utilization = d.number("gpu_memory_utilization", e.gpu_memory_utilization, 0.05, 1.0,
                                      Help{"share of GPU memory the engine may use (vLLM's)"});
  if (d.has("max_num_seqs")) e.max_num_seqs_set = true;
  e.max_num_seqs = static_cast<int>(d.integer("max_num_seqs", e.max_num_seqs, 1, 1 << 16,
                                              Help{"most requests running at once (vLLM's)", kVllmDefaultSeqs}));
  if (d.has("max_num_batched_tokens")) e.max_num_batched_tokens_set = true;
  e.max_num_batched_tokens =
      static_cast<int>(d.integer("max_num_batched_tokens", e.max_num_batched_tokens, 1, 1 << 22,
                                 Help{"token budget of one iteration (vLLM's)", kVllmDefaultTokens}));
  e.watermark = d.number("watermark", e.watermark, 0, 0.5, Help{"share of KV blocks kept free at admission (vLLM's)"});
  e.enable_prefix_caching = d.boolean("enable_prefix_caching", e.enable_prefix_caching,
                                      Help{"automatic prefix caching (vLLM's name and default)"});
  if (d.has("workspace_gib"))
    e.workspace_bytes = static_cast<std::int64_t>(
        d.number("workspace_gib", 0, 1024,
                 Help{"activation workspace per GPU, GiB", "estimated from the model and batch"}) *
        static_cast<double>(kGiB));
  swap_space_bytes = d.number("swap_space_gib", swap_space_bytes / static_cast<double>(kGiB), 0, 1 << 20,
                              Help{"host swap space per GPU, GiB (vLLM's)"}) *
                     static_cast<double>(kGiB);
}

// The deployment-wide knobs (and the single form's group).
void read_deployment_knobs(JsonFields& d, const ModelSpec& model, EngineParams& e) {
  e.block_size = static_cast<int>(d.integer("block_size", e.block_size, 1, 4096,
                                            Help{"tokens per KV block: 1, 8, 16, 32, 64 or 128, as vLLM accepts"}));
  if (e.block_size != 1 && (e.block_size < 8 || e.block_size > 128 || (e.block_size & (e.block_size - 1)) != 0))
    throw InputError(d.path_of("block_size") + ": " + std::to_string(e.block_size) +
                     " is not a block size vLLM accepts (1, 8, 16, 32, 64 or 128)");
  // vLLM's default is the model's native context, and it refuses a longer one.
  e.max_model_len = static_cast<int>(
      d.integer("max_model_len", model.max_model_len, 2, 1 << 24,
                Help{"longest prompt + output; no more than the model's context", "the model's context"}));
  e.speculative = speculative_from_json(
      d.child("speculative",
              Help{"speculative decoding {method, num_tokens, acceptance, ...}: every instance drafts k "
                   "tokens a step and verifies them in one forward (off when absent or num_tokens is 0)"}),
      d.path_of("speculative"), model);
  if (e.max_model_len > model.max_model_len) {
    // Suggest catalogued models whose context is long enough, other than this one.
    std::string longer;
    for (const ModelSpec& m : model_catalogue())
      if (m.name != model.name && m.max_model_len >= e.max_model_len) longer += (longer.empty() ? "" : ", ") + m.name;
    throw InputError(d.path_of("max_model_len") + ": " + std::to_string(e.max_model_len) + " exceeds " + model.name +
                     "'s context of " + std::to_string(model.max_model_len) + " tokens (vLLM refuses it; " +
                     (longer.empty() ? std::string("no catalogued model has a context that long")
                                     : "models with a context that long: " + longer) +
                     ")");
  }
}

// The model as the deployment serves it (deployment-wide, so that a request's KV means the same
// bytes on every instance it moves to): vLLM's --quantization / checkpoint dtype, --kv-cache-dtype
// and --enable-expert-parallel.
ModelSpec served_model(JsonFields& d, const ModelSpec& model) {
  ModelSpec m = model;
  m.weight_dtype = dtype_from_name(
      d.choice("weight_dtype", dtype_name(model.weight_dtype), {"bf16", "fp8", "fp8_block"},
               Help{"linear layers' weights: bf16, fp8 (vLLM --quantization fp8) or fp8_block", "the model's"}));
  const std::string kv = d.choice("kv_cache_dtype", "auto", {"auto", "bf16", "fp8"},
                                  Help{"the KV cache: auto (bf16, as vLLM's auto is the model's), bf16 or fp8 (e4m3)"});
  m.kv_cache_dtype = kv == "fp8" ? Dtype::fp8 : Dtype::bf16;
  m.expert_parallel =
      d.boolean("expert_parallel", false,
                Help{"MoE: deal experts out whole over each instance's GPUs (vLLM --enable-expert-parallel) instead of "
                     "splitting every expert by TP"});
  if (m.expert_parallel && !m.moe.on())
    throw InputError(d.path_of("expert_parallel") + ": " + m.name + " has no experts to deal out");
  return m;
}

// A group's GPUs must run the model as served: fp8 needs fp8 tensor cores, and vLLM's shards
// must divide as its checks require.
void check_served_on(const ModelSpec& m, const GpuSpec& gpu, int tp, const std::string& group_path) {
  const std::string tp_path = group_path + ".tp";
  const bool fp8 = m.weight_dtype != Dtype::bf16 || m.kv_cache_dtype != Dtype::bf16;
  if (fp8 && gpu.fp8_flops <= 0)
    throw InputError(
        group_path + ": " + gpu.name +
        " has no fp8 tensor cores and its measured tables no fp8 rows; kunsim does not price fp8 " +
        (m.weight_dtype != Dtype::bf16 ? "weights (deployment.weight_dtype)" : "KV (deployment.kv_cache_dtype)") +
        " there (vLLM would run fp8 weights weight-only through Marlin)");
  if (!m.moe.on()) return;
  if (m.expert_parallel) {
    if (tp > m.moe.experts)
      throw InputError(tp_path + ": " + std::to_string(tp) + " GPUs for " + std::to_string(m.moe.experts) +
                       " experts under expert parallelism would leave a GPU without one");
    return;
  }
  if (m.moe.expert_ffn % tp != 0)
    throw InputError(tp_path + ": " + std::to_string(tp) + " does not divide the experts' intermediate size (" +
                     std::to_string(m.moe.expert_ffn) + "); try deployment.expert_parallel");
  if (m.weight_dtype == Dtype::fp8_block && (m.moe.expert_ffn / tp) % 128 != 0)
    throw InputError(tp_path + ": fp8_block experts split " + std::to_string(tp) + " ways are " +
                     std::to_string(m.moe.expert_ffn / tp) +
                     " wide, not a multiple of the 128-wide scale block vLLM requires; try deployment.expert_parallel");
}

// A node kind by GPU name: the first node group of that kind.
const NodeGroupSpec& node_kind(const ClusterSpec& c, const std::string& gpu, const std::string& path) {
  if (c.gpu.name == gpu) return c;
  for (const auto& g : c.more_node_groups)
    if (g.gpu.name == gpu) return g;
  find_gpu(gpu, path);  // an unknown kind is named as such
  std::string kinds = c.gpu.name;
  for (const auto& g : c.more_node_groups)
    if (kinds.find(g.gpu.name) == std::string::npos) kinds += ", " + g.gpu.name;
  throw InputError(path + ": the cluster has no " + gpu + " nodes (it has " + kinds + ")");
}

// The cost model kind that prices a group's speculative proposer: the group's own, except that
// a per-model profile (kunsim-calibrate's, format 1) cannot price the draft's shape, where the
// roofline does; kernel tables (format 2) price any shape.
std::string draft_cost_kind(const DeploymentGroup& g) {
  const bool per_model = g.cost_model == "profile" && !(g.profile && g.profile->format == 2);
  return per_model ? "roofline" : g.cost_model;
}

// Checks a group's engine against the model and its node kind, then sizes its memory and
// chooses its costs.
void complete_group(DeploymentGroup& g, const DeploymentInputs& in, const Json& cost_json) {
  EngineParams& e = g.engine;
  const std::string tp_path = g.path + ".tp";
  if (g.hardware.gpus_per_node % e.tp != 0)
    throw InputError(tp_path + ": " + std::to_string(e.tp) + " does not divide the " + g.hardware.gpu.name +
                     " nodes' gpus_per_node (" + std::to_string(g.hardware.gpus_per_node) +
                     "): an instance must sit inside one node");
  if (in.model.heads % e.tp != 0)
    throw InputError(tp_path + ": " + std::to_string(e.tp) + " does not divide the model's " +
                     std::to_string(in.model.heads) + " attention heads");
  check_served_on(in.model, g.hardware.gpu, e.tp, g.path);
  const std::string cost_path = g.path == "deployment" ? "cost" : g.path + ".cost";
  const CostSpec cost = cost_spec_from_json(&cost_json, cost_path);
  g.cost = cost.roofline;
  const CostChoice choice = choose_cost(cost, in.model, g.hardware_spec(), e.tp, in.scenario_dir, cost_path);
  g.cost_model = choice.model;
  g.cost_source = choice.source;
  g.profile = choice.profile;
  if (e.speculative.on()) g.cost_source += "; " + SpeculativeCostModel::speculation(e.speculative, draft_cost_kind(g));
  // The scheduler limits the scenario left unset are vLLM's for this GPU.
  const GpuSpec& gpu = g.hardware.gpu;
  const SchedulerLimits vllm = vllm_limits_on(gpu, g.profile.get());
  if (!e.max_num_seqs_set) e.max_num_seqs = vllm.max_num_seqs;
  if (!e.max_num_batched_tokens_set) e.max_num_batched_tokens = vllm.max_num_batched_tokens;
  if (e.max_num_batched_tokens < e.max_num_seqs)
    throw InputError(g.path + ".max_num_batched_tokens: " + std::to_string(e.max_num_batched_tokens) +
                     (e.max_num_batched_tokens_set ? "" : " (vLLM's default on " + gpu.name + ")") +
                     " must be >= max_num_seqs (" + std::to_string(e.max_num_seqs) +
                     "): every running decode needs a token each step");
  g.memory = make_memory_plan(in.model, e, gpu.memory_bytes, g.path);
}

// First fit, group by group: each instance takes the first `tp` free GPUs of the first node of
// its kind that has them (GPU ids number node groups, then nodes, in the cluster's order).
void place(std::vector<DeploymentGroup>& groups, const ClusterSpec& cluster, bool single_form) {
  struct Node {
    std::string gpu;
    int first = 0, size = 0, used = 0;
  };
  std::vector<Node> nodes;
  int next = 0;
  for (const NodeGroupSpec& k : cluster.node_groups())
    for (int n = 0; n < k.nodes; ++n, next += k.gpus_per_node) nodes.push_back({k.gpu.name, next, k.gpus_per_node, 0});
  for (DeploymentGroup& g : groups) {
    const int tp = g.engine.tp;
    for (int i = 0; i < g.count; ++i) {
      auto it = std::find_if(nodes.begin(), nodes.end(),
                             [&](const Node& n) { return n.gpu == g.hardware.gpu.name && n.size - n.used >= tp; });
      if (it == nodes.end()) {
        const std::string& kind = g.hardware.gpu.name;
        int kind_gpus = 0;
        for (const Node& n : nodes) kind_gpus += n.gpu == kind ? n.size : 0;
        long long needed = 0;
        for (const DeploymentGroup& o : groups) needed += o.hardware.gpu.name == kind ? o.gpu_count() : 0;
        if (single_form)
          throw PlacementShortfall("deployment.instances: " + std::to_string(g.count) + " instances x tp " +
                                       std::to_string(tp) + " need " + std::to_string(g.gpu_count()) +
                                       " GPUs, the cluster has " + std::to_string(cluster.total_gpus()),
                                   kind, needed);
        throw PlacementShortfall(g.path + ".count: " + std::to_string(g.count) + " instances x tp " +
                                     std::to_string(tp) + " do not fit: instance " + std::to_string(i) + " finds no " +
                                     kind + " node with " + std::to_string(tp) + " free GPUs (the cluster has " +
                                     std::to_string(kind_gpus) + " " + kind + " GPUs; groups before it took some)",
                                 kind, needed);
      }
      std::vector<int> gpus;
      for (int r = 0; r < tp; ++r) gpus.push_back(it->first + it->used + r);
      it->used += tp;
      g.gpus.push_back(std::move(gpus));
    }
  }
}

// A root `cost` section with a group's own `cost` keys laid over it.
Json merged_cost(const Json* root, const Json* group) {
  Json c = root ? *root : Json::object();
  if (group)
    for (auto it = group->begin(); it != group->end(); ++it) c[it.key()] = it.value();
  return c;
}

}  // namespace

std::unique_ptr<CostModel> make_group_cost_model(const DeploymentGroup& g, const ModelSpec& model) {
  auto target = make_cost_model(g.cost_model, g.profile.get(), model, g.hardware_spec(), g.engine.tp, g.cost);
  const SpeculativeSpec& spec = g.engine.speculative;
  if (!spec.on()) return target;
  const std::string kind = draft_cost_kind(g);
  std::unique_ptr<CostModel> draft;
  if (spec.draft) draft = make_cost_model(kind, g.profile.get(), *spec.draft, g.hardware_spec(), g.engine.tp, g.cost);
  return std::make_unique<SpeculativeCostModel>(std::move(target), std::move(draft), spec, kind);
}

SchedulerLimits vllm_limits_on(const GpuSpec& gpu, const Profile* profile) {
  const std::string version = profile && profile->meta.value("framework", std::string()) == "vllm"
                                  ? profile->meta.value("framework_version", std::string(kModelledVllmVersion))
                                  : std::string(kModelledVllmVersion);
  return vllm_api_server_limits(gpu.memory_bytes, gpu.name.find("a100") != std::string::npos, version);
}

Deployment deployment_from_json(const DeploymentInputs& scenario) {
  static const Json kEmpty = Json::object();
  JsonFields d(scenario.deployment ? *scenario.deployment : kEmpty, "deployment");
  Deployment dep;
  double swap = 4.0 * static_cast<double>(kGiB);  // per GPU, vLLM's swap_space default
  read_engine_knobs(d, dep.defaults, swap);
  dep.model = served_model(d, scenario.model);
  // Every group is sized and priced for the model as served.
  const DeploymentInputs in{scenario.deployment, scenario.cost, dep.model, scenario.cluster, scenario.scenario_dir};
  read_deployment_knobs(d, in.model, dep.defaults);
  dep.dispatch = d.string("dispatch", dep.dispatch,
                          Help{"the front door: least_kv, least_work, round_robin, least_unfinished, prefix_aware "
                               "(kunsim list dispatchers)"});
  dispatcher_registry().at(dep.dispatch, d.path_of("dispatch"));  // known now, not at run time
  dep.dispatch_params.load_report_interval =
      seconds_to_ns(d.number("load_report_interval_s", ns_to_seconds(dep.dispatch_params.load_report_interval), 1e-3,
                             3600, Help{"least_unfinished: how often engines report their load"}));
  dep.frontend_s = d.number("frontend_s", dep.frontend_s, 0, 3600,
                            Help{"HTTP, tokenisation and detokenisation, added to TTFT and E2E"});
  dep.layerwise_transfer =
      d.choice(
          "kv_transfer", "whole", {"whole", "layerwise"},
          Help{"prefill -> decode hand-offs: whole (after the prefill) or layerwise (streamed as layers finish)"}) ==
      "layerwise";
  const Json* gj = d.child("groups",
                           Help{"a fleet: [{name, gpu, tp, count, role, engine knobs, cost}] instead of instances; a "
                                "group's engine knobs default to the deployment's"},
                           "array");
  if (!gj) {
    DeploymentGroup g;
    g.name = "default";
    g.path = "deployment";
    g.count = static_cast<int>(d.integer("instances", 1, 1, 65536, Help{"instances of the single form"}));
    d.finish();
    g.hardware = in.cluster;
    g.engine = dep.defaults;
    g.swap_space_bytes = swap;
    complete_group(g, in, merged_cost(in.cost, nullptr));
    dep.groups.push_back(std::move(g));
    place(dep.groups, in.cluster, true);
    return dep;
  }
  if (d.has("instances"))
    throw InputError("deployment.instances: not allowed with deployment.groups (each group has its count)");
  d.finish();
  const std::string gp = "deployment.groups";
  if (!gj->is_array() || gj->empty()) throw InputError(gp + ": expected a non-empty list of instance groups");
  cost_spec_from_json(in.cost, "cost");  // the defaults are checked where they are written
  std::set<std::string> names;
  for (std::size_t i = 0; i < gj->size(); ++i) {
    DeploymentGroup g;
    g.path = gp + "." + std::to_string(i);
    JsonFields f((*gj)[i], g.path);
    g.name = f.string("name", Help{"the instance group's name"});
    if (g.name.empty() || !names.insert(g.name).second)
      throw InputError(f.path_of("name") + ": \"" + g.name + "\" is empty or names another group too");
    g.hardware = node_kind(in.cluster, f.string("gpu", in.cluster.gpu.name, Help{"GPU kind", "the cluster's first"}),
                           f.path_of("gpu"));
    g.count = static_cast<int>(f.integer("count", 1, 0, 65536, Help{"instances in the group"}));
    const std::string role = f.choice("role", "mixed", {"mixed", "prefill", "decode"},
                                      Help{"mixed (serves whole requests), prefill or decode (disaggregated)"});
    g.role = role == "prefill" ? InstanceRole::Prefill : role == "decode" ? InstanceRole::Decode : InstanceRole::Mixed;
    g.engine = dep.defaults;
    g.swap_space_bytes = swap;
    read_engine_knobs(f, g.engine, g.swap_space_bytes);
    const Json* own_cost = f.child("cost", Help{"cost keys laid over the root cost section for this group"});
    if (own_cost && !own_cost->is_object()) f.fail("cost", "an object");
    f.finish();
    complete_group(g, in, merged_cost(in.cost, own_cost));
    dep.groups.push_back(std::move(g));
  }
  int takers = 0, prefill = 0, decode = 0;
  for (const auto& g : dep.groups) {
    takers += g.role != InstanceRole::Decode ? g.count : 0;
    prefill += g.role == InstanceRole::Prefill ? g.count : 0;
    decode += g.role == InstanceRole::Decode ? g.count : 0;
  }
  if (takers == 0) throw InputError(gp + ": no mixed or prefill instance to take arrivals");
  if (prefill > 0 && decode == 0) throw InputError(gp + ": prefill instances need a decode group with instances to hand off to");
  if (decode > 0 && prefill == 0) throw InputError(gp + ": decode instances are fed only by prefill instances, and no prefill group has any");
  place(dep.groups, in.cluster, false);
  return dep;
}

}  // namespace kunsim
