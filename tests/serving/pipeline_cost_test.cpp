// pipeline_cycle_ns by hand, on a cost model simple enough to price in one's head: every
// micro-batch costs 1 ms of MLP plus 0.1 ms of decode attention per decode, nothing else.
#include "sim/serving/reconfig/kunserve/pipeline_cost.hpp"

#include <gtest/gtest.h>

namespace kunsim {
namespace {

class HandCost final : public CostModel {
 public:
  IterationCost iteration(const BatchShape& s) const override {
    IterationCost c;
    c.mlp = 1e-3;
    c.attn_decode = 1e-4 * s.num_decodes;
    c.lm_head = lm_head_s;
    return c;
  }
  double lm_head_s = 0;  // per micro-batch, on the last stage
  std::int64_t activation_bytes(std::int64_t) const override { return 0; }
  std::string describe() const override { return "by hand"; }
};

BatchShape decodes(int n) {
  BatchShape s;
  s.num_decodes = n;
  s.decode_context_sum = 1000 * n;
  s.layers = 2;
  s.sampled = n;
  return s;
}

// g = 2 stages of one layer; 8 decodes split 4 + 4: each micro-batch 1 + 0.4 = 1.4 ms a stage.
TEST(PipelineCost, NoStaleTokensIsTwoStagesOfEqualWork) {
  const HandCost cost;
  const PipelineGeometry geo{2, 1, 2, PipelineLinks{}};
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), 0), 2.8e6, 1e-3);
}

// Micro-batches as the virtual engines form them: all 8 decodes in one (1.8 ms a stage), none in
// the other (1 ms). Each stage is busy 2.8 ms a cycle as before, but the full micro-batch
// crosses both stages in 3.6 ms: the 0.8 ms bubble the balanced split avoids.
TEST(PipelineCost, UnequalMicroBatchesAsGivenLeaveABubble) {
  const HandCost cost;
  const PipelineGeometry geo{2, 1, 2, PipelineLinks{}};
  BatchShape none = decodes(0);
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), {decodes(8), none}, 0, nullptr), 3.6e6, 1e-3);
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), {decodes(4), decodes(4)}, 0, nullptr), 2.8e6, 1e-3);
}

// The lm_head runs on the last stage, after its layers: 0.5 ms per micro-batch makes stage 1
// busy 2 x (1.4 + 0.5) = 3.8 ms a cycle, over the traversal (1.4 + 1.4 + 0.5 = 3.3 ms) that
// alone once counted it.
TEST(PipelineCost, TheLmHeadIsInTheLastStagesBusyTime) {
  HandCost cost;
  cost.lm_head_s = 5e-4;
  const PipelineGeometry geo{2, 1, 2, PipelineLinks{}};
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), 0), 3.8e6, 1e-3);
}

// Four of the eight decodes are stale, all homed on member 0: 2 per micro-batch, whose
// attention (0.2 ms of the 0.4) member 1 skips and member 0 does for member 1's layer.
// Member 0: 1.4 + 0.2 = 1.6 ms per micro-batch, 3.2 ms a cycle; member 1: 1.2 ms, 2.4 ms.
// The home bounds the cycle: 3.2 ms. Spread over both homes, it is 2.8 ms again.
TEST(PipelineCost, RemoteAttentionIsChargedToTheMemberHoldingTheKv) {
  const HandCost cost;
  PipelineGeometry geo{2, 1, 2, PipelineLinks{}};
  const std::vector<int> all_on_0{4, 0}, spread{2, 2};
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), 4, &all_on_0), 3.2e6, 1e-3);
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), 4, &spread), 2.8e6, 1e-3);
  // 10 us each way on the route: member 1 waits 2 x 10 us per micro-batch for the remote
  // attention (member 0 has no stale tokens away), 2.44 ms a cycle; the home still bounds it.
  geo.links.remote_latency_ns = 10'000;
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(8), 4, &all_on_0), 3.2e6, 1e-3);
  // Now most work sits on member 1: 6 decodes, 4 stale homed on 0 -> 2 stale of 3 per
  // micro-batch: stale attention 0.2 of 0.3 ms. Member 1: 1.3 - 0.2 + 0.02 = 1.12 ms; member 0:
  // 1.3 + 0.2 = 1.5 ms. Cycle: max(3.0, 2 x 1.12 = 2.24, traversal 2.62) = 3.0 ms.
  EXPECT_NEAR(pipeline_cycle_ns(cost, geo, decodes(6), 4, &all_on_0), 3.0e6, 1e-3);
}

}  // namespace
}  // namespace kunsim
