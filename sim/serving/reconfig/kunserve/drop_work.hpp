// DropWork: the time a drop takes before its group serves (policy.drop_latency_s). The
// reference's trigger_balloon stops the engines at a step boundary (kunsim pauses them there
// too), then, with nothing served: merges the followers' schedulers into the leader over Ray,
// converts the free KV blocks to the pipeline format, and runs pmm_drop rank by rank, which
// unmaps the dropped layers' weights and maps their memory as KV blocks. No measured rate for
// those steps is at hand, so the latency is the user's figure (0 by default: a drop is
// instantaneous once the engines have paused). While it runs the group is blocked and locked;
// then `then` continues the drop (the stale requests' exchange) and returns true when another
// process took the group over.
#pragma once
#include <functional>

#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class DropWork final : public EventHandler {
 public:
  DropWork(ReconfigurationHost& host, Engine& pipeline, SimDuration latency, std::function<bool(SimTime)> then)
      : host_(host), pipeline_(pipeline), latency_(latency), then_(std::move(then)) {}
  void begin(SimTime now);  // once the host holds it
  void handle_event(SimTime now, std::uint64_t arg) override;

 private:
  ReconfigurationHost& host_;
  Engine& pipeline_;
  SimDuration latency_;
  std::function<bool(SimTime)> then_;
};

}  // namespace kunsim
