// RestoreProcess: KunServe's restore of one pipeline group, as events on the simulated
// cluster: vacate (admit only what fits the members as normal instances, and wait until what is
// used fits them and no stale KV is left, polling at the policy's interval; the group still
// takes arrivals) -> pull (no more arrivals; each member fetches the layers it dropped from the
// stage that kept them: with RestorePull::Stall the group pauses at its next step boundary first
// and serves nothing until the pull ends, as the reference's worker actors run the pull between
// forwards; with Overlap it serves meanwhile) -> gather (paused; each running request's
// per-stage KV is gathered on one member) -> split (back to data-parallel instances; requests no
// member has room for are recomputed).
#pragma once
#include <set>
#include <vector>

#include "sim/serving/fleet/cluster_view.hpp"
#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class RestoreProcess final : public EventHandler {
 public:
  RestoreProcess(ReconfigurationHost& host, int pipeline_id, RestorePull pull, SimDuration poll_interval, SimTime now)
      : host_(host), id_(pipeline_id), pull_(pull), poll_interval_(poll_interval), started_(now) {}
  void begin(SimTime now) { poll(now); }  // once the host holds it
  void handle_event(SimTime now, std::uint64_t arg) override;

 private:
  enum class Step { Vacate, Pull, Gather };
  Engine& pipeline() const { return *host_.instance(id_); }
  void poll(SimTime now);
  void pull(SimTime now);
  void gather(SimTime now);
  void split(SimTime now);

  ReconfigurationHost& host_;
  int id_;
  RestorePull pull_;
  SimDuration poll_interval_;
  SimTime started_;
  Step step_ = Step::Vacate;
  std::vector<std::set<RequestId>> assigned_;  // per member, the running requests it takes
  std::set<RequestId> unfit_;                 // running requests no member has room for
};

}  // namespace kunsim
