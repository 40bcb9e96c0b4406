// EngineView: all that overload policies and dispatchers may see of one engine. It has const
// queries only, and they return values or `const Request&`. There is no event queue, no link
// scheduler, and nothing a caller could change. Policies act through ClusterCommands, and
// dispatchers return a choice. Keeping this narrow is what lets the engine change (new ports,
// new step rules) without touching any policy. The layering check (cmake/KunsimLayering.cmake)
// fails the build if sim/policy/ or a dispatcher includes engine.hpp or serving_context.hpp,
// so the view cannot be bypassed.
//
// The estimates a policy needs (a swap copy's time over this engine's PCIe route, an iteration
// priced by its cost model) are here too, so no policy prices anything behind the engine's back.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/core/sim_time.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/model/engine_params.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/serving/engine/member.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class PrefixDirectory;

class EngineView {
 public:
  virtual ~EngineView() = default;

  // Who it is: its id, its instance group (deployment.groups), and its members. A normal
  // engine has one member. A KunServe pipeline of g stages has g members.
  virtual int id() const = 0;
  virtual int instance_group() const = 0;
  virtual const std::vector<Member>& members() const = 0;
  int stages() const { return static_cast<int>(members().size()); }

  // KV memory, in blocks. kv_used_at() is exact within a decode jump. kv_used() is the count as
  // last booked (they agree at step boundaries, where preemption asks). kv_cached_at() counts
  // evictable cached prefix blocks.
  virtual std::int64_t kv_capacity() const = 0;
  virtual std::int64_t kv_used() const = 0;
  virtual std::int64_t kv_used_at(SimTime t) const = 0;
  virtual std::int64_t kv_cached_at(SimTime t) const = 0;
  // Blocks the waiting requests would need to be admitted (prompt + outputs so far).
  virtual std::int64_t queued_blocks() const = 0;
  // The three together, in one call: dispatchers weigh every engine at every arrival.
  struct KvLoad {
    std::int64_t used = 0, queued = 0, capacity = 0;
  };
  virtual KvLoad kv_load_at(SimTime t) const = 0;
  // The first time after `t` at which kv_load_at may change with no event here: the next step
  // boundary of a decode jump in flight (kSimTimeMax when there is none). Any other change is
  // told to the cluster's LoadWatch as it happens.
  virtual SimTime next_load_step(SimTime t) const = 0;

  // Queues: requests running (decoding or prefilling), waiting, decoding. request_count()
  // counts every request here, whatever its state.
  virtual int running() const = 0;
  virtual int waiting() const = 0;
  virtual int decoding() const = 0;
  virtual std::int64_t request_count() const = 0;
  // Tokens the decodes attend to in their next step, summed (the cost model's context).
  virtual std::int64_t decode_context_sum() const = 0;
  // Each request here, outputs synced, in an order that is fixed for a given state.
  virtual void each_request(const std::function<void(const Request&)>& visit) const = 0;

  // Its settings and pricing: the engine knobs, the model, the cost model (for estimates), the
  // time a copy of `blocks` KV blocks takes over its PCIe route to the host, and the leading
  // keys of `r`'s prompt that its prefix cache holds.
  virtual const EngineParams& settings() const = 0;
  virtual const ModelSpec& model() const = 0;
  virtual const CostModel& cost() const = 0;
  virtual SimDuration swap_copy_time(std::int64_t blocks) const = 0;
  virtual int cached_prefix_keys(const Request& r) const = 0;
  // The fleet's directory of cached prefix keys (nullptr for a lone engine).
  virtual const PrefixDirectory* prefix_directory() const = 0;
};

}  // namespace kunsim
