// DropPlanner: its cycle estimate is priced by the function a fused group charges
// (pipeline_cycle_ns, over the same members' links), from the instances' real decode contexts.
#include "sim/policy/drop_planner.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"

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
// Instances 0 and 1 nearly full and voting, each with `demand`; instance 2 nearly empty.
std::vector<InstanceLoad> two_voters_of_three(std::int64_t decodes, std::int64_t context, std::int64_t demand) {
  std::vector<InstanceLoad> loads;
  for (int id = 0; id < 3; ++id) {
    InstanceLoad l;
    l.id = id;
    l.capacity = 2000;
    l.used = id < 2 ? 1990 : 100;
    l.free = l.capacity - l.used;
    l.queued = id < 2 ? 50 : 0;
    l.decodes = decodes;
    l.context_sum = decodes * context;
    l.votes = id < 2;
    l.demand = id < 2 ? demand : 0;
    loads.push_back(l);
  }
  return loads;
}

TEST(DropPlanner, AStaticGroupSizeFixesG) {
  test::ClusterOf f(3, 2000);
  const std::vector<InstanceLoad> loads = two_voters_of_three(10, 1000, 40);
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

// The plan balances memory against cooperation's overhead: a g whose estimated cycle (a token of
// every decode in the group) exceeds max_cycle_s is no candidate, and where none passes nothing
// fuses and the refusal says why. Three instances, two voting; a demand no g covers, so
// without a bound the planner would take the largest, g = 3.
TEST(DropPlanner, AGWhoseCycleIsTooLongIsRefusedAndNoneLeavesNoDrop) {
  test::ClusterOf f(3, 2000);
  const std::vector<InstanceLoad> loads = two_voters_of_three(40, 2000, 1'000'000);
  DropPlannerParams p;
  p.max_group_size = 3;
  const DropPlanner free_planner(*f.cluster, p);
  const double cycle2 = free_planner.estimate({loads[0], loads[2]}).second;  // the seed, then the least used
  const double cycle3 = free_planner.estimate({loads[0], loads[2], loads[1]}).second;
  ASSERT_LT(cycle2, cycle3);
  ASSERT_EQ(free_planner.plan(loads)[0].g, 3);
  // Between the two: g = 3 is refused for its cycle, g = 2 is taken.
  p.max_cycle_s = (cycle2 + cycle3) / 2;
  std::vector<PipelinePlan> refused;
  const auto two = DropPlanner(*f.cluster, p).plan(loads, &refused);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(two[0].g, 2);
  EXPECT_DOUBLE_EQ(two[0].est_cycle_s, cycle2);
  EXPECT_TRUE(refused.empty());
  // Below both: no group at all; each voting seed comes back refused, naming the cycles.
  p.max_cycle_s = cycle2 / 2;
  const auto none = DropPlanner(*f.cluster, p).plan(loads, &refused);
  EXPECT_TRUE(none.empty());
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_EQ(refused[0].g, 0);
  EXPECT_NE(refused[0].refusal.find("g=2 cycle"), std::string::npos) << refused[0].refusal;
  EXPECT_NE(refused[0].refusal.find("g=3 cycle"), std::string::npos) << refused[0].refusal;
}

// A group of two (engine 4, slots 0 and 1) that votes again grows to four with the two normal
// instances: every member then keeps 8 of 32 layers. Freed beyond what the group had freed:
// 4 x 4992 - 2 x 3328 = 13,312 blocks (hand: 24 and 16 layers of 436,224,000 B in 2 MiB blocks).
TEST(DropPlanner, AVotingGroupGrowsByAMultipleOfItsStages) {
  test::ClusterOf f(4, 2000);
  FuseOptions opt;
  ASSERT_TRUE(f.cluster->fuse({0, 1}, opt, kSimTimeZero));  // idle: fused at once
  ASSERT_EQ(f.cluster->engine(4)->stages(), 2);
  InstanceLoad group;
  group.id = 4;
  group.capacity = f.cluster->engine(4)->kv_capacity();
  group.used = group.capacity - 10;
  group.free = 10;
  group.queued = 500;
  group.votes = true;
  group.demand = 490;
  group.decodes = 40;
  group.context_sum = 40 * 2000;
  std::vector<InstanceLoad> normals;
  for (int id : {3, 2}) {
    InstanceLoad l;
    l.id = id;
    l.capacity = 2000;
    l.used = id == 2 ? 100 : 200;
    l.free = l.capacity - l.used;
    l.decodes = 5;
    l.context_sum = 5 * 1000;
    normals.push_back(l);
  }
  DropPlannerParams p;
  const PipelinePlan plan = DropPlanner(*f.cluster, p).grow(group, normals, {});
  EXPECT_EQ(plan.g, 4);
  EXPECT_EQ(plan.ids, (std::vector<int>{4, 2, 3}));  // the group, then the least used first
  EXPECT_EQ(plan.freed, 13'312);
  EXPECT_EQ(plan.partner_free, 1900 + 1800);
  EXPECT_EQ(plan.votes, 2);
  EXPECT_TRUE(plan.covered);
  EXPECT_GT(plan.est_cycle_s, plan.est_step_s);
  // Not when a partner is taken by a new group, nor beyond max_group_size, nor with a static g.
  EXPECT_EQ(DropPlanner(*f.cluster, p).grow(group, normals, {2}).g, 0);
  p.max_group_size = 3;
  EXPECT_EQ(DropPlanner(*f.cluster, p).grow(group, normals, {}).g, 0);
  p.max_group_size = 4;
  p.group_size = 2;
  EXPECT_EQ(DropPlanner(*f.cluster, p).grow(group, normals, {}).g, 0);
}

}  // namespace
}  // namespace kunsim
