// Pipeline execution helpers: splitting one iteration's batch into the g micro-batches that
// flow through a pipeline group's stages, and the link figures of a group's GPUs.
// The split follows the reference's balancing batch former, which it runs only when asked
// (enable_look_ahead; not its default): decodes are spread evenly (its decode rebalance), each
// micro-batch carrying an equal share of the decode context; prefill chunks go longest first
// to the micro-batch with the fewest tokens (greedy multiway partition), and a long one is
// chunked so that every micro-batch carries the same number of tokens (its packed prefill).
// What stays unequal shows up as pipeline bubbles. The reference's default (each arrival to
// the virtual engine with the fewest unfinished requests, decodes staying there, prefill-only
// steps for a virtual engine with prefills) is not modelled yet: these micro-batches are the
// idealised, balanced ones.
#pragma once
#include <vector>

#include "sim/cluster/topology.hpp"
#include "sim/cost/batch_shape.hpp"
#include "sim/model/model_spec.hpp"
#include "sim/serving/engine/member.hpp"

namespace kunsim {

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
