// Member: one hardware slot of an engine: the TP group of GPUs a normal instance runs on. A
// pipeline group (after a KunServe drop) has g members; member r is stage r and keeps layers
// [r*L/g, (r+1)*L/g). Block counts are in whole-model blocks (all layers of block_size tokens,
// as a normal instance counts them).
#pragma once
#include <cstdint>
#include <vector>

#include "sim/cluster/link_scheduler.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

struct Member {
  int slot = 0;                     // the instance id it had before any fusion
  std::vector<int> gpus;            // global GPU ids, one per TP rank
  std::int64_t base_blocks = 0;     // KV blocks of a normal instance on these GPUs
  std::int64_t extra_blocks = 0;    // blocks made from dropped weights
  std::int64_t stale_blocks = 0;    // all-layer KV of stale requests homed here

  std::int64_t capacity() const { return base_blocks + extra_blocks; }
};

// Books a transfer of `bytes_per_rank` from each TP rank of `from` to the same rank of `to`,
// every rank on its own route, in parallel; returns when the last one ends.
inline SimTime transfer_between(LinkScheduler& links, const Topology& topo, const Member& from, const Member& to,
                                std::int64_t bytes_per_rank, SimTime now) {
  SimTime end = now;
  for (std::size_t t = 0; t < from.gpus.size(); ++t) {
    const SimTime e = links.reserve(topo.gpu_to_gpu(from.gpus[t], to.gpus[t]), bytes_per_rank, now).end;
    if (e > end) end = e;
  }
  return end;
}

// Layers [first, last) of stage r of g over L layers.
inline int stage_first_layer(int r, int g, int layers) { return r * layers / g; }
inline int stage_layers(int r, int g, int layers) {
  return stage_first_layer(r + 1, g, layers) - stage_first_layer(r, g, layers);
}

// The KV pool of an engine over `members`, in whole-model blocks. One member: its capacity. A
// pipeline group: per-stage KV of a block is 1/g of a whole-model block on every member, while
// stale KV sits whole on its home, so the member with the least room bounds the per-stage KV.
std::int64_t pool_blocks(const std::vector<Member>& members);
// The members' own KV blocks, as normal instances: a group's pool without the blocks made
// from dropped weights (what a restore must fit in, and what its usage is counted against).
std::int64_t base_blocks(const std::vector<Member>& members);
// Blocks member `m` holds when the pool holds `used`: its stale KV, and its stage's share of
// the rest.
std::int64_t member_blocks(const std::vector<Member>& members, int m, std::int64_t used);
// Invariant: on every member's GPUs, the weights it keeps + its KV blocks + workspace and
// reserve fit the memory the engine may use. Throws std::logic_error naming `engine_id`.
void check_members_fit(const std::vector<Member>& members, const ModelSpec& model, const MemoryPlan& plan, int tp,
                       int engine_id);

}  // namespace kunsim
