// ClusterView and ClusterCommands: what an overload policy sees of the serving cluster and what
// it may ask of it. The view is read-only (engines as const EngineView*, no event queue, no
// links); every change goes through a command, which checks its own rules (an engine under
// reconfiguration, a group of one, a request that is not a decode) and says no by returning
// false, so a policy can never leave the cluster in a state serving did not choose.
// Policies never include the engine itself, only its view (engine_view.hpp).
// Commands today: KunServe's drop (fuse), growth and restore, Llumnix's migrate. Engines belong
// to instance groups (`EngineView::instance_group()`); fusion, growth and migration take engines
// of one group only.
#pragma once
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "sim/cluster/topology.hpp"
#include "sim/serving/engine/decision.hpp"
#include "sim/serving/engine/engine_view.hpp"
#include "sim/serving/reconfig/kunserve/micro_batches.hpp"
#include "sim/serving/reconfig/kunserve/step_exchange.hpp"

namespace kunsim {

// What happens to the requests running at a drop (stale: their KV whole on their old member).
//   StallExchange: they wait until their KV is exchanged, the exchange a part of every step
//     (the reference's livereshard; StepExchange).
//   RemoteAttention: they decode meanwhile, attention on their home member (the paper's v1
//     design; the reference's remote-attention path is never called); exchanged the same way.
//   BlockingExchange: the group runs nothing until all their KV is exchanged (reshard).
//   Recompute: their KV is dropped and they prefill again in the group.
enum class StaleKvMode { StallExchange, RemoteAttention, BlockingExchange, Recompute };
const char* stale_kv_mode_name(StaleKvMode m);

// A restore's pull of the dropped layers: `Stall`, as the reference runs it (the pull's NCCL
// calls queue on the same worker actors as the forwards, one at a time, so the group serves
// nothing meanwhile), or `Overlap` (a what-if: the group serves while the layers come back).
enum class RestorePull { Stall, Overlap };

struct FuseOptions {
  StaleKvMode stale_kv = StaleKvMode::StallExchange;
  // The exchange: requests per virtual engine per step (or per round of a blocking exchange),
  // its transport, and (a what-if) the least time between two steps that exchange.
  StepExchangeSettings exchange;
  // How the group forms its micro-batches (micro_batches.hpp): the reference's virtual engines
  // by default, or its opt-in look-ahead balancing.
  MicroBatching micro_batching = MicroBatching::VirtualEngines;
  // The drop's own work before the group serves (DropWork); 0: none.
  SimDuration drop_latency;
  nlohmann::json plan;  // the planner's inputs and estimates, logged with the drop
};

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  // Every engine, by id; and those taking arrivals (a restoring group takes none).
  virtual std::span<const EngineView* const> engines() const = 0;
  // (A restoring group takes arrivals until its pull begins.)
  virtual std::span<const EngineView* const> dispatchable() const = 0;
  virtual const EngineView* engine(int id) const = 0;
  virtual bool reconfiguring(int engine_id) const = 0;
  // Blocks a member of engine `engine_id`'s instance group frees as stage `stage` of g (its
  // dropped layers' weights, per GPU).
  virtual std::int64_t freed_blocks(int engine_id, int stage, int g) const = 0;
  // What the deployment is made of: an engine's own knobs and cost model are on its view
  // (EngineView::settings(), cost()). Instance groups are numbered 0 .. instance_groups() - 1.
  virtual const ModelSpec& model() const = 0;
  virtual const Topology& topology() const = 0;
  virtual int instance_groups() const = 0;
};

class ClusterCommands {
 public:
  virtual ~ClusterCommands() = default;
  // KunServe's drop: the normal engines `engine_ids` fuse into one pipeline group, at their next
  // step boundary. False (nothing done) for fewer than two, engines of different instance
  // groups, or any that is not a normal, unlocked engine without swapped requests.
  virtual bool fuse(const std::vector<int>& engine_ids, const FuseOptions& opt, SimTime now) = 0;
  // KunServe's growth: the normal engines `partners` join the settled pipeline group
  // `pipeline_id` at their next step boundary, making g' = g + |partners| stages. Each old stage
  // is split among its member (which keeps the stage's first layers) and |partners|/g of the
  // partners, in order, so no member ever needs back a layer it dropped. False (nothing done)
  // unless |partners| is a non-zero multiple of g, the group is unlocked, not restoring and has
  // no stale KV left, every partner is a normal, unlocked engine without swapped requests, and the
  // grown group can hold what it adopts (the group's KV re-laid beside each partner's own).
  virtual bool grow(int pipeline_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now) = 0;
  // A group back to normal instances, its pull as `pull` says. False for a normal engine, one
  // under reconfiguration, or one with stale KV not yet exchanged.
  virtual bool restore(int engine_id, SimTime now, const std::string& reason, RestorePull pull) = 0;
  // A decision that changes nothing (a vote the planner turned down), logged as it is.
  virtual void record(Decision d) = 0;
  // Llumnix's live migration of a decoding request. False when either end is locked or not a
  // normal engine, the two are of different instance groups, the request is not decoding on
  // `src`, or `dst` has no room.
  virtual bool migrate(int src_engine, RequestId request, int dst_engine, SimTime now) = 0;
};

}  // namespace kunsim
