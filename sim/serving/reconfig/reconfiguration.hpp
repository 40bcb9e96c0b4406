// Reconfiguration: what a process that reshapes the serving cluster while it serves (the KV
// exchange after a drop, a restore, a Llumnix migration) may do to the cluster, and nothing
// more. Processes are events of their own; they act through this narrow host interface rather
// than as friends of ServingCluster, and tell it when they are over, so it can unlock the
// engines they held and delete them.
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/event_queue.hpp"
#include "sim/serving/engine/engine.hpp"

namespace kunsim {

class ReconfigurationHost {
 public:
  virtual ~ReconfigurationHost() = default;
  virtual const ServingContext& context() const = 0;
  virtual Engine* instance(int id) const = 0;
  // An engine's reconfiguration ports (engine.hpp), one per mechanism: only a process that
  // drives that mechanism asks for it.
  virtual PipelinePort& pipeline_port(Engine& e) = 0;
  virtual MigrationEnd& migration_end(Engine& e) = 0;
  virtual HandoffEnd& handoff_end(Engine& e) = 0;
  virtual FusionPort& fusion_port(Engine& e) = 0;
  virtual void log(Decision d) = 0;
  // Restore's last step: the paused group `id` is replaced by a normal instance on each of its
  // members' slots (returned in member order, paused: the caller resumes them).
  virtual std::vector<Engine*> split(int pipeline_id) = 0;
  // Restore: engine `engine_id` takes no more arrivals (until the process is done).
  virtual void stop_dispatching(int engine_id) = 0;
  // `process` is over: the engines it held are unlocked (`engines`) and it is deleted once the
  // event it is handling has returned.
  virtual void done(EventHandler* process, const std::vector<int>& engines) = 0;
  // The decode instances of a disaggregated fleet, in id order (none elsewhere).
  virtual const std::vector<Engine*>& decoders() const = 0;
};

}  // namespace kunsim
