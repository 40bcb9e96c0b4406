// Deployment: the `deployment` section as instance groups placed on the cluster. The single
// form (`deployment.instances`, `deployment.tp`) is one mixed group named "default";
// `deployment.groups` lists several, each with a name, GPU kind, TP, count, role and its own
// engine knobs and `cost` section over the deployment's defaults. Each group gets its memory
// plan and cost choice for its GPU kind, and its instances are placed first-fit on nodes of
// that kind, each inside one node (tensor parallelism needs NVLink).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sim/cluster/cluster_spec.hpp"
#include "sim/cost/profile.hpp"
#include "sim/cost/roofline_params.hpp"
#include "sim/model/engine_params.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/model/vllm_engine_defaults.hpp"
#include "sim/serving/dispatch/dispatcher.hpp"
#include "sim/serving/fleet/instance_group.hpp"

namespace kunsim {

struct DeploymentGroup {
  std::string name;
  std::string path;  // its JSON path ("deployment" in the single form), for messages
  InstanceRole role = InstanceRole::Mixed;
  int count = 1;
  NodeGroupSpec hardware;  // the node kind its instances run on
  EngineParams engine;
  MemoryPlan memory;
  double swap_space_bytes = 0;  // per GPU
  RooflineParams cost;
  std::string cost_model = "roofline";  // what its cost.model resolved to
  std::string cost_source;
  std::shared_ptr<const Profile> profile;  // with cost_model "profile"
  std::vector<std::vector<int>> gpus;      // per instance: its global GPU ids (placement)

  int gpu_count() const { return count * engine.tp; }
  // A ClusterSpec of this group's node kind alone (what a cost model is built for).
  ClusterSpec hardware_spec() const;
};

struct DeploymentInputs {
  const Json* deployment;      // the section (may be null)
  const Json* cost;            // the root `cost` section: every group's defaults (may be null)
  const ModelSpec& model;
  const ClusterSpec& cluster;
  const std::string& scenario_dir;
};

struct Deployment {
  // The scenario's model as the deployment serves it: weight and KV dtypes, expert parallelism.
  ModelSpec model;
  EngineParams defaults;  // the deployment-level knobs (the single form's group's)
  std::vector<DeploymentGroup> groups;
  // Prefill -> decode hand-offs: the whole cache after the prefill, or layer by layer as it
  // is computed (deployment.kv_transfer).
  bool layerwise_transfer = false;
  std::string dispatch = "least_kv";
  DispatchParams dispatch_params;
  // Front-end time per request (HTTP, tokenisation, detokenisation): added to the TTFT and E2E
  // the client sees, apart from the engine. Default 0.02 s: kunsim's comparisons with real vLLM
  // servers put it at 10-30 ms of a real TTFT; no per-token term (no citable data yet).
  double frontend_s = 0.02;

  bool disaggregated() const;
  bool prefix_caching() const;  // some group has prefix caching on
};

// The cost model a group's instances run on: its cost.model for the model, under a
// SpeculativeCostModel where deployment.speculative is on (the proposer priced by the same kind
// of model, or the roofline where a per-model profile cannot price the draft's shape).
std::unique_ptr<CostModel> make_group_cost_model(const DeploymentGroup& g, const ModelSpec& model);

// The instances outgrow the cluster's nodes of one GPU kind: an InputError that says which kind
// and how many of its GPUs the groups need, so that plan and sweep can add nodes
// (run/cluster_growth.hpp) where a run refuses.
class PlacementShortfall : public InputError {
 public:
  PlacementShortfall(const std::string& what, std::string gpu_kind, long long gpus_needed)
      : InputError(what), gpu_kind(std::move(gpu_kind)), gpus_needed(gpus_needed) {}
  std::string gpu_kind;
  long long gpus_needed;
};

// Validates the section and places the instances; every error names its JSON path.
Deployment deployment_from_json(const DeploymentInputs& in);

// vLLM's scheduler limits on `gpu` (vllm_engine_defaults.hpp), as the release that priced the
// kernels picks them: `profile`'s vLLM version, else the modelled release (no profile, or one of
// another framework). The device name vLLM reads is the kind's: an A100 by its name.
SchedulerLimits vllm_limits_on(const GpuSpec& gpu, const Profile* profile);

}  // namespace kunsim
