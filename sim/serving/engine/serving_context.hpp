// ServingContext: what an instance may touch outside itself: the event queue, links, the cost
// model, and two narrow interfaces pointing up the layers: PolicyHooks (the overload policy
// decides how to preempt) and ServingObserver (metrics and outputs listen). Serving never
// includes a policy or metrics header; they plug in through these.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/cluster/link_scheduler.hpp"
#include "sim/cluster/topology.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/model/engine_params.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/serving/engine/decision.hpp"
#include "sim/serving/engine/load_watch.hpp"
#include "sim/serving/engine/policy_hooks.hpp"
#include "sim/serving/engine/request.hpp"
#include "sim/serving/engine/serving_observer.hpp"
#include "sim/serving/prefix/prefix_directory.hpp"

namespace kunsim {

struct ServingContext {
  EventQueue* events = nullptr;
  LinkScheduler* links = nullptr;
  const Topology* topology = nullptr;
  const CostModel* cost = nullptr;
  const ModelSpec* model = nullptr;
  const EngineParams* engine = nullptr;
  const MemoryPlan* memory = nullptr;
  PolicyHooks* policy = nullptr;
  ServingObserver* observer = nullptr;
  PrefixDirectory* prefix_directory = nullptr;  // the cluster's; none in a lone instance
  LoadWatch* loads = nullptr;                   // the cluster's; none in a lone instance
  // The instance group (deployment.groups) an engine belongs to: engine, memory and cost above
  // are that group's. `hands_off`: a prefill instance, whose prefilled requests leave for a
  // decode instance through the cluster instead of decoding here.
  int group = 0;
  bool hands_off = false;
  class KvHandoffs* handoffs = nullptr;  // the cluster's, where any group hands off
};

}  // namespace kunsim
