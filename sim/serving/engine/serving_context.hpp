// ServingContext: what an instance may touch outside itself: the event queue, links, the cost
// model, and two narrow interfaces pointing up the layers: PolicyHooks (the overload policy
// decides how to preempt) and ServingObserver (metrics and outputs listen). Serving never
// includes a policy or metrics header; they plug in through these.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/cluster/link_scheduler.hpp"
#include "sim/cluster/topology.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/model/engine_params.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/serving/engine/decision.hpp"
#include "sim/serving/prefix/prefix_directory.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class Engine;
class ClusterView;
class ClusterCommands;

enum class PreemptMode { Recompute, Swap };

struct PreemptDecision {
  PreemptMode mode = PreemptMode::Recompute;
  std::string reason;
};

class PolicyHooks {
 public:
  virtual ~PolicyHooks() = default;
  // `victim` must give up its KV blocks on `inst`; how? (Swap falls back to recompute when the
  // host swap space is full; the instance logs that.)
  virtual PreemptDecision on_preempt(const Engine& inst, const Request& victim) = 0;
  // Whether the engine's swaps are pipelined with its compute (layer by layer, as InferCept's
  // are): a step then ends when both its compute and its swaps are done, instead of computing
  // after the swaps (vLLM's swap_blocks, which the step waits for).
  virtual bool swaps_overlap_compute() const { return false; }
  // Periodic control (KunServe's overload/restore votes, Llumnix's migrations): on_tick runs
  // every tick_interval() of simulated time (0: never), sees the cluster read-only and acts
  // through commands.
  virtual SimDuration tick_interval() const { return {}; }
  virtual void on_tick(const ClusterView& cluster, ClusterCommands& commands, SimTime now) = 0;
  // Dispatch override: an index into cluster.dispatchable(), or -1 for the dispatcher's rule.
  virtual int pick_engine(const ClusterView& cluster, const Request& r, SimTime now) = 0;
};

// Inter-token gaps, as a run: `count` requests each got a token after each of `steps` gaps,
// the i-th gap being first_ns + step_ns * i. An engine reports one run per iteration or decode
// jump (not per token), so the ITL distribution costs nothing per generated token.
struct TokenGaps {
  double first_ns = 0, step_ns = 0;
  std::int64_t steps = 1, count = 1;
};

class ServingObserver {
 public:
  virtual ~ServingObserver() = default;
  virtual void on_first_token(const Request& r, SimTime now) = 0;
  // Finished or rejected; the request is not touched by serving afterwards.
  virtual void on_request_done(Request& r, SimTime now) = 0;
  // One row of decisions.jsonl.
  virtual void on_decision(const Decision& d) = 0;
  // A finished piece of work of an engine: one iteration, or `steps` decode steps jumped over.
  virtual void on_work(const Engine& /*engine*/, SimTime /*start*/, SimTime /*end*/, std::int64_t /*steps*/,
                       int /*decodes*/, std::int64_t /*prefill_tokens*/) {}
  // Gaps between successive output tokens of requests (ITL); the first token's wait is TTFT.
  virtual void on_token_gaps(const TokenGaps& /*gaps*/) {}
};

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
  // The instance group (deployment.groups) an engine belongs to: engine, memory and cost above
  // are that group's. `hands_off`: a prefill instance, whose prefilled requests leave for a
  // decode instance through the cluster instead of decoding here.
  int group = 0;
  bool hands_off = false;
  class KvHandoffs* handoffs = nullptr;  // the cluster's, where any group hands off
};

}  // namespace kunsim
