// MemoryOverloadPolicy: what a serving system does when KV memory runs out. Policies register
// by name (policy_registry.hpp) and see serving only through PolicyHooks: a read-only
// ClusterView, and ClusterCommands to act. The public hooks check their invariants, then call
// the private do_* hooks, which are what a policy writes (ns-3's Enqueue -> DoEnqueue).
// To add one: a file in sim/policy/ with a subclass and a KUNSIM_REGISTER_POLICY line.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/serving/engine/policy_hooks.hpp"
#include "sim/serving/fleet/cluster_view.hpp"

namespace kunsim {

// What a policy must know of the deployment before a run: how many instance groups, and
// whether prefill and decode run on instances of their own (deployment.groups roles), and the
// scenario's per-request TPOT SLO.
struct FleetShape {
  int groups = 1;
  bool disaggregated = false;
  int largest_group = 1;    // instances in the largest instance group (the most that can fuse)
  std::vector<int> counts;  // instances of each instance group, in deployment order
  double tpot_slo_s = 0.2;  // slo.tpot_s
  bool speculative = false;  // deployment.speculative is on
  bool expert_parallel = false;  // deployment.expert_parallel: experts dealt out whole over each instance
  bool sliding_window = false;   // the model has sliding-window layers (their KV is per request, not per layer)
};

class MemoryOverloadPolicy : public PolicyHooks {
 public:
  // Why this policy cannot serve `fleet` (empty: it can). The scenario refuses such a pairing
  // before it runs, naming the policy, or the key of the policy section the reason starts
  // with ("group_size: ...").
  virtual std::string fleet_refusal(const FleetShape& /*fleet*/) const { return {}; }
  // Fits the policy's defaults that follow from the deployment (before fleet_refusal and run).
  virtual void fit(const FleetShape& /*fleet*/) {}
  PreemptDecision on_preempt(const EngineView& inst, const Request& victim) final;
  void on_tick(const ClusterView& cluster, ClusterCommands& commands, SimTime now) final;
  int pick_engine(const ClusterView& cluster, const Request& r, SimTime now) final;
  virtual std::string name() const = 0;

 private:
  virtual PreemptDecision do_on_preempt(const EngineView& inst, const Request& victim) = 0;
  virtual void do_on_tick(const ClusterView& /*cluster*/, ClusterCommands& /*commands*/, SimTime /*now*/) {}
  virtual int do_pick_engine(const ClusterView& /*cluster*/, const Request& /*r*/, SimTime /*now*/) { return -1; }
  SimTime last_tick_ = kNoTime;
};

}  // namespace kunsim
