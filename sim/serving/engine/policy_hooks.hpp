// PolicyHooks: the narrow interface through which the serving layer asks the overload policy
// (sim/policy/) to decide. Serving never includes a policy header. The policy sees engines as
// EngineView and the cluster as ClusterView, and it acts through ClusterCommands.
#pragma once
#include <string>

#include "sim/core/sim_time.hpp"
#include "sim/serving/engine/engine_view.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

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
  // `victim` must give up its KV blocks on `engine`; how? (Swap falls back to recompute when the
  // host swap space is full; the instance logs that.)
  virtual PreemptDecision on_preempt(const EngineView& engine, const Request& victim) = 0;
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

}  // namespace kunsim
