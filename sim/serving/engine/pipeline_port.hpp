// PipelinePort: how the KV exchange and the fusion drive a KunServe pipeline engine: its stale
// requests (running when the group fused, KV still whole on their home member), whether each
// one's KV laid out per stage would fit, what its exchange sends each stage, the mark that it
// was exchanged, and blocking the engine while a blocking exchange runs. Owned by the engine;
// the exchange reaches it through ReconfigurationHost::pipeline_port.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_set>

#include "sim/core/sim_time.hpp"
#include "sim/serving/engine/request.hpp"
#include "sim/serving/reconfig/kunserve/micro_batches.hpp"
#include "sim/serving/reconfig/kunserve/step_exchange.hpp"

namespace kunsim {

class Engine;

class PipelinePort {
 public:
  explicit PipelinePort(Engine& e) : e_(e) {}
  // The stale requests, by id.
  const std::map<RequestId, Request*>& stale() const;
  // Whether `r`'s KV, spread over the stages instead of whole on its home, fits the pool now.
  bool exchange_fits(const Request& r) const;
  // Blocks the exchange of `r` sends member `owner` for the owner's layers: its own, and the
  // shared prefix blocks the owner lacks (not yet laid out per stage, no copy of its own as a
  // home, not in `sent`: the keys already sent it this round), so each moves once per stage.
  std::int64_t exchange_blocks(const Request& r, int owner, std::unordered_set<std::uint64_t>& sent) const;
  // A stale request whose KV was exchanged: it is now laid out per stage, and a stalled one
  // runs from the next step on. False when it is no longer stale here, or when its pages laid
  // out per stage would not fit the peers now (it stays stale; the exchange retries it).
  bool mark_exchanged(RequestId id);
  // The live exchange from now on is part of every step (StepExchange), until no stale
  // request is left.
  void exchange_in_steps(StepExchangeSettings s, SimTime now);
  // How the group forms its micro-batches (set when it is installed, before it runs).
  void set_micro_batching(MicroBatching m);
  // While blocked (a blocking KV exchange, a stage relay), no iteration starts; unblocking
  // plans again.
  void set_blocked(bool blocked, SimTime now);

 private:
  Engine& e_;
};

}  // namespace kunsim
