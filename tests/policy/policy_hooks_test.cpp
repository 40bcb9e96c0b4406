// The policy seam: hooks check their invariants before a policy's do_* runs, policies see the
// cluster read-only and change it only through commands that check their own rules.
#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"
#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

// Does whatever the test tells it to.
class ScriptedPolicy final : public MemoryOverloadPolicy {
 public:
  int pick = -1;
  int ticks = 0;
  std::string name() const override { return "scripted"; }
  SimDuration tick_interval() const override { return kNsPerSecond; }

 private:
  PreemptDecision do_on_preempt(const EngineView&, const Request&) override { return {PreemptMode::Recompute, ""}; }
  void do_on_tick(const ClusterView&, ClusterCommands&, SimTime) override { ++ticks; }
  int do_pick_engine(const ClusterView&, const Request&, SimTime) override { return pick; }
};

struct Cluster : test::ClusterOf {
  Cluster() : ClusterOf(2, 1000) {}
};

TEST(PolicyHooks, APickOutsideTheDispatchableEnginesIsRefused) {
  Cluster f;
  ScriptedPolicy p;
  Request r;
  p.pick = 1;
  EXPECT_EQ(p.pick_engine(*f.cluster, r, kSimTimeZero), 1);
  p.pick = 2;  // two engines: 0 and 1
  EXPECT_THROW(p.pick_engine(*f.cluster, r, kSimTimeZero), std::logic_error);
  p.pick = -1;
  r.instance = 0;  // already placed
  EXPECT_THROW(p.pick_engine(*f.cluster, r, kSimTimeZero), std::logic_error);
}

TEST(PolicyHooks, TicksMoveForwardAndPreemptionsNeedAReasonAndARunningVictim) {
  Cluster f;
  ScriptedPolicy p;
  p.on_tick(*f.cluster, *f.cluster, at_ns(100));
  EXPECT_THROW(p.on_tick(*f.cluster, *f.cluster, at_ns(100)), std::logic_error);
  EXPECT_EQ(p.ticks, 1);
  Request r;
  r.phase = Phase::Waiting;
  EXPECT_THROW(p.on_preempt(*f.cluster->instance(0), r), std::logic_error);
  r.phase = Phase::Decode;
  EXPECT_THROW(p.on_preempt(*f.cluster->instance(0), r), std::logic_error);  // no reason given
}

TEST(PolicyHooks, CommandsSayNoToWhatTheRulesForbid) {
  Cluster f;
  ClusterCommands& cmd = *f.cluster;
  EXPECT_FALSE(cmd.fuse({0}, {}, kSimTimeZero));            // a group of one
  EXPECT_FALSE(cmd.fuse({0, 7}, {}, kSimTimeZero));         // no engine 7
  EXPECT_FALSE(cmd.restore(0, kSimTimeZero, "why", RestorePull::Stall));  // not a group
  EXPECT_FALSE(cmd.migrate(0, 42, 1, kSimTimeZero));        // no such request decoding on 0
  EXPECT_FALSE(cmd.migrate(0, 42, 0, kSimTimeZero));        // to itself
  ASSERT_TRUE(cmd.fuse({0, 1}, {}, kSimTimeZero));          // idle engines fuse at once
  EXPECT_FALSE(cmd.fuse({0, 1}, {}, kSimTimeZero));         // they are gone now
  const ClusterView& view = *f.cluster;
  ASSERT_EQ(view.engines().size(), 1u);
  EXPECT_EQ(view.engines()[0]->stages(), 2);
  const int gp = view.engines()[0]->id();
  EXPECT_GT(view.freed_blocks(gp, 0, 2), 0);
  EXPECT_EQ(view.freed_blocks(gp, 0, 2), f.cluster->freed_blocks(gp, 0, 2));
}

}  // namespace
}  // namespace kunsim
