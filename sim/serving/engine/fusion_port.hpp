// FusionPort: how the fleet rebuilds engines when KunServe fuses instances into a pipeline,
// grows one, or splits it back (restore). Works on paused engines: take every request out,
// adopt running and waiting requests, carry counters over, mark the state the timeline shows,
// cap admission while a group vacates, and retire an engine taken out of service. Owned by the
// engine; ServingCluster and RestoreProcess reach it through ReconfigurationHost::fusion_port.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/serving/engine/request.hpp"

namespace kunsim {

class Engine;

class FusionPort {
 public:
  explicit FusionPort(Engine& e) : e_(e) {}
  // Removes every request, outputs synced, blocks released: running (admission order),
  // swapped, then waiting.
  std::vector<Request*> take_all();
  // Puts a running request (decoding or prefilling, blocks already counted in its `blocks`)
  // into this engine, allocating its blocks here. Stale ones count on their home member.
  void adopt_running(Request* r);
  // Queues a waiting request in arrival order (the merged queue of a fused group).
  void adopt_waiting(Request* r);
  // The state the timeline shows ("normal", "pipeline", "vacating", "restoring").
  void set_state(std::string s);
  // Admission cap (blocks): a restoring group admits only within what its members will have
  // once split. Unset: the pool's capacity.
  void set_admission_cap(std::optional<std::int64_t> cap);
  // Taken out of service (fused into a group, or split back): events still queued for it
  // arrive and are ignored.
  void retire();

 private:
  Engine& e_;
};

}  // namespace kunsim
