// DropPlanner: its cycle estimate is priced by the function a fused group charges
// (pipeline_cycle_ns, over the same members' links), from the instances' real decode contexts.
#include "sim/policy/drop_planner.hpp"

#include <gtest/gtest.h>

#include "serving/instance_fixture.hpp"

namespace kunsim {
namespace {

struct PlannerFixture : test::ClusterOf {
  PlannerFixture() : ClusterOf(2, 2000) {}
  InstanceLoad load(int id, std::int64_t decodes, std::int64_t context_sum) const {
    InstanceLoad l;
    l.id = id;
    l.capacity = 2000;
    l.decodes = decodes;
    l.context_sum = context_sum;
    return l;
  }
};

TEST(DropPlanner, EstimatesACycleWithTheFunctionTheGroupIsChargedBy) {
  PlannerFixture f;
  const DropPlanner planner(*f.cluster, {});
  const std::vector<InstanceLoad> loads{f.load(0, 24, 24 * 3000), f.load(1, 16, 16 * 1000)};
  const auto [step, cycle] = planner.estimate(loads);

  std::vector<Member> members{f.cluster->instance(0)->members()[0], f.cluster->instance(1)->members()[0]};
  const PipelineGeometry geo{2, 1, f.model.layers, pipeline_links(f.topology, members, f.model)};
  BatchShape all;
  all.num_decodes = 40;
  all.decode_context_sum = 24 * 3000 + 16 * 1000;
  all.layers = f.model.layers;
  all.sampled = 40;
  EXPECT_DOUBLE_EQ(cycle, pipeline_cycle_ns(*f.ctx.cost, geo, all, 0) * 1e-9);
  BatchShape one = all;
  one.num_decodes = 20;
  one.decode_context_sum = all.decode_context_sum / 2;
  one.sampled = 20;
  EXPECT_DOUBLE_EQ(step, f.ctx.cost->iteration(one).sum());
  EXPECT_GT(cycle, step);
}

TEST(DropPlanner, RealContextsChangeTheEstimate) {
  PlannerFixture f;
  const DropPlanner planner(*f.cluster, {});
  const auto short_ctx = planner.estimate({f.load(0, 32, 32 * 512), f.load(1, 32, 32 * 512)});
  const auto long_ctx = planner.estimate({f.load(0, 32, 32 * 16000), f.load(1, 32, 32 * 16000)});
  EXPECT_GT(long_ctx.second, short_ctx.second * 1.5);  // decode attention reads 31x the KV
  EXPECT_GT(long_ctx.first, short_ctx.first * 1.5);
  // No decodes yet: one per stage of 512 tokens, never an empty step.
  const auto idle = planner.estimate({f.load(0, 0, 0), f.load(1, 0, 0)});
  EXPECT_GT(idle.first, 0);
  EXPECT_GT(idle.second, idle.first);
}

// Three instances, two voting with a demand that g = 2 covers: the planner takes g = 2; with a
// static group size of 3 (the reference's --group-size) the group has all three.
TEST(DropPlanner, AStaticGroupSizeFixesG) {
  test::ClusterOf f(3, 2000);
  std::vector<InstanceLoad> loads;
  for (int id = 0; id < 3; ++id) {
    InstanceLoad l;
    l.id = id;
    l.capacity = 2000;
    l.used = id < 2 ? 1990 : 100;
    l.free = l.capacity - l.used;
    l.queued = id < 2 ? 50 : 0;
    l.decodes = 10;
    l.context_sum = 10 * 1000;
    l.votes = id < 2;
    l.demand = id < 2 ? 40 : 0;
    loads.push_back(l);
  }
  const auto chosen = DropPlanner(*f.cluster, {}).plan(loads);
  ASSERT_EQ(chosen.size(), 1u);
  EXPECT_EQ(chosen[0].g, 2);
  EXPECT_TRUE(chosen[0].covered);
  DropPlannerParams fixed;
  fixed.group_size = 3;
  const auto three = DropPlanner(*f.cluster, fixed).plan(loads);
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].g, 3);
  EXPECT_EQ(three[0].ids, (std::vector<int>{0, 2, 1}));  // the seed, then the least used partner first
}

}  // namespace
}  // namespace kunsim
