// LoadWatch: told when what a dispatcher weighs of an engine may have changed: its KV blocks used
// or queued, its capacity, or the decode jump in flight (whose steps move kv_used_at between
// events). A dispatcher that keeps the instances ordered by load then updates only those told
// of, where weighing every instance at every arrival made a run's cost per request grow with
// the fleet. Between two calls for an engine, its load moves only at the step boundaries of its
// jump, which EngineView::next_load_step names; so an engine that changes a load without saying
// so here is a bug the debug builds catch (ServingCluster checks each pick against a full scan).
#pragma once

namespace kunsim {

class LoadWatch {
 public:
  virtual ~LoadWatch() = default;
  virtual void load_changed(int engine_id) = 0;
};

}  // namespace kunsim
