// Pipeline execution helpers: how a pipeline group forms the g micro-batches that flow through
// its stages, and the link figures of a group's GPUs.
// The reference runs one virtual engine (a scheduler of its own) per stage, each stepping its own
// micro-batch; the stages take them in turn, so a cycle gives every virtual engine one step.
// How requests meet micro-batches is MicroBatching:
//   VirtualEngines, the reference's default (enable_look_ahead off): each arrival is bound to
//     the virtual engine with the fewest unfinished requests (get_min_cost_scheduler), running
//     requests at a drop stay in the virtual engine of their member, and a virtual engine
//     that has prefills runs a prefill-only step (schedule(prefill_only_chunk=True)): its
//     decodes sit that step out. Unequal micro-batches show up as pipeline bubbles.
//   LookAhead, the reference's opt-in balancing former (enable_look_ahead): split_micro_batches
//     below. Decodes are spread evenly (its decode rebalance), each micro-batch carrying an
//     equal share of the decode context; prefill chunks go longest first to the micro-batch
//     with the fewest tokens (greedy multiway partition), and a long one is chunked so that
//     every micro-batch carries the same number of tokens (its packed prefill).
#pragma once
#include <vector>

#include "sim/cluster/topology.hpp"
#include "sim/cost/batch_shape.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/serving/engine/member.hpp"

namespace kunsim {

enum class MicroBatching { VirtualEngines, LookAhead };
inline const char* micro_batching_name(MicroBatching m) {
  return m == MicroBatching::LookAhead ? "look-ahead" : "virtual-engines";
}

std::vector<BatchShape> split_micro_batches(const BatchShape& batch, int micro_batches, int layers_per_stage);

struct PipelineLinks {
  double hop_bytes_per_s = 1;        // slowest link between consecutive stages
  std::int64_t hop_latency_ns = 0;
  double remote_bytes_per_s = 1;     // slowest route between any two members
  std::int64_t remote_latency_ns = 0;
  double remote_bytes_per_token_layer = 0;  // Q, K, V out and O back, whole model width
};

PipelineLinks pipeline_links(const Topology& topo, const std::vector<Member>& members, const ModelSpec& model);

}  // namespace kunsim
