// StepExchange: the live KV exchange of a KunServe pipeline group as the reference runs it
// (livereshard: flash_backend's `_step` while the group is resharding), a part of every step
// rather than rounds of its own.
//   - Virtual engine v (one per stage) holds the stale requests homed on member v. Each step it
//     takes up to `batch` of them (the reference's exchange_batch_size) whose KV fits the peers.
//   - It splits them into g slices. Slice i is exchanged whole, every layer to the member that
//     owns it, after stage i's forward is issued and stage i-1's has finished, and before stage
//     i+1's is issued.
//   - Ray runs each worker's calls one at a time, so a step costs its forwards plus every
//     exchange: the exchange is on the whole group's critical path, virtual engine after
//     virtual engine, slice after slice (the peers of one slice receive at once).
//   - A request exchanged in a step is laid out per stage at the step's end and runs from the
//     next step on (under stall-exchange it ran nothing until then).
// The transport: peer to peer (p2p: the topology's GPU-to-GPU route, NVLink within a node), or
// staged through host memory (host: the sender's GPU-to-host and the receiver's host-to-GPU
// PCIe routes at once, the bytes streaming through pinned buffers), as the reference's
// evaluation ran it (evaluation/env.sh sets NCCL_P2P_DISABLE=1).
// `interval` > 0 is a what-if: a step exchanges only once that long has passed since the last
// step that did (the reference defines LIVE_RESHARD_INTERVAL = 0.25 s and never uses it).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/core/sim_time.hpp"
#include "sim/serving/engine/member.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

struct ServingContext;
class PipelinePort;

enum class ExchangePath { P2p, Host };
const char* exchange_path_name(ExchangePath p);

struct StepExchangeSettings {
  int batch = 8;  // requests per virtual engine per step
  ExchangePath path = ExchangePath::P2p;
  SimDuration interval;  // 0: every step
};

// Books `bytes_per_rank` from each TP rank of `from` to the same rank of `to` over `path`;
// returns when the last copy ends.
SimTime transfer_over(ExchangePath path, const ServingContext& ctx, const Member& from, const Member& to,
                      std::int64_t bytes_per_rank, SimTime start);

class StepExchange {
 public:
  StepExchange(StepExchangeSettings s, SimTime started) : s_(s), started_(started) {}
  // At a step starting at `start`: picks this step's requests and books their exchange, slice
  // after slice; returns when the last copy ends (`start` when none goes this step).
  SimTime begin_step(const ServingContext& ctx, const std::vector<Member>& members, PipelinePort& port, SimTime start);
  // At that step's end: lays its requests out per stage (a request that no longer fits stays
  // stale and goes again in a later step).
  void end_step(PipelinePort& port);
  bool exchanging() const { return !step_.empty(); }
  // The kv_exchange row's fields when the last stale request is laid out at `now`.
  nlohmann::json done_fields(int engine_id, SimTime now) const;

 private:
  StepExchangeSettings s_;
  SimTime started_;
  SimTime last_step_ = kNoTime;  // the latest step that exchanged
  std::vector<RequestId> step_;
  std::int64_t bytes_ = 0, requests_ = 0, steps_ = 0;
  SimDuration critical_;  // the exchange's time on the steps' critical path, summed
};

}  // namespace kunsim
