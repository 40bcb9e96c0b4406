// pipeline_cycle_ns: what one cycle of a KunServe pipeline group costs, written once. The
// Engine that runs a group charges it, and the DropPlanner estimates a group with it before
// fusing, so a plan's est_cycle_s is what the simulation then charges for that shape.
//
// A cycle runs g micro-batches over g stages: every stage runs each micro-batch once (the
// stage-bound term), and each micro-batch crosses every stage (the traversal term). Unequal
// micro-batches make the traversal term win: those are the bubbles. Under
// stale_kv=remote-attention, stale tokens (requests whose KV is still whole on their home
// member) pay remote attention every layer of a stage:
// Q, K, V out to the home and O back, with the attention itself charged to the home member's
// GPU, which holds the KV (so a member that is home to many stale requests bounds the cycle).
#pragma once
#include "sim/cost/batch_shape.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/serving/reconfig/kunserve/micro_batches.hpp"
#include "sim/serving/engine/member.hpp"

namespace kunsim {

struct ServingContext;

struct PipelineGeometry {
  int stages = 2;        // g
  int tp = 1;            // GPUs per stage
  int model_layers = 1;  // split over the stages as stage_layers() says
  PipelineLinks links;
};

// `stale_by_home`: stale decodes per member (nullptr: spread evenly). The batch `shape` is split
// into balanced micro-batches (split_micro_batches: the reference's look-ahead former, and what
// the DropPlanner assumes of a group it has not formed yet).
double pipeline_cycle_ns(const CostModel& cost, const PipelineGeometry& geo, const BatchShape& shape, int stale_tokens,
                         const std::vector<int>* stale_by_home = nullptr);
// The same over micro-batches as given (one per virtual engine, each with the stage's layers),
// `whole` being all of them together (for the host's share and the stale tokens' spread).
double pipeline_cycle_ns(const CostModel& cost, const PipelineGeometry& geo, const BatchShape& whole,
                         const std::vector<BatchShape>& micro_batches, int stale_tokens,
                         const std::vector<int>* stale_by_home);

// Books the link traffic of `steps` cycles of `shape` from `start`: activations across each
// stage boundary (each TP rank sends its share), and every stage's remote attention to each home
// of stale decodes. Returns when the links release the last of it.
SimTime book_pipeline_links(const ServingContext& ctx, const std::vector<Member>& members, const PipelineGeometry& geo,
                            const BatchShape& shape, int stale_tokens, const std::vector<int>& stale_decodes_by_home,
                            std::int64_t steps, SimTime start);

}  // namespace kunsim
