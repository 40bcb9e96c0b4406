// A drop's own work (policy.drop_latency_s, DropWork): the fused group serves nothing for that
// long, so a request queued at the drop gets its first token that much later and a request
// running at it stalls that much longer; everything else is unchanged. On the 2-instance
// llama-3-8b cluster of engine_fixture.hpp.
#include "sim/serving/reconfig/kunserve/drop_work.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"

namespace kunsim {
namespace {

struct DropRun {
  SimDuration ttft, stall;
  double logged_s = -1;
};

DropRun drop_with(SimDuration latency, StaleKvMode mode = StaleKvMode::StallExchange) {
  test::ClusterOf f(2, 1000);
  Request* a = f.add(0, 0, 1600, 2000);
  f.cluster->instance(0)->enqueue(a, kSimTimeZero);
  f.run_until({}, 300'000'000, [] {});
  FuseOptions opt;
  opt.drop_latency = latency;
  opt.stale_kv = mode;
  EXPECT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  // Idle, instance 1 has paused for the drop already; it queues the arrival, which joins the
  // group waiting.
  Request* c = f.add(1, f.now.ns(), 800, 10);
  f.cluster->instance(1)->enqueue(c, f.now);
  f.run_until({}, kSimTimeMax, [] {});
  EXPECT_EQ(a->generated, 2000);
  EXPECT_EQ(c->generated, 10);
  DropRun out;
  out.ttft = *c->first_token - c->arrival;
  EXPECT_EQ(f.observer.drop_gaps.size(), 1u);
  if (!f.observer.drop_gaps.empty()) out.stall = f.observer.drop_gaps[0];
  for (const auto& d : f.observer.decisions)
    if (d["kind"] == "drop" && d.value("phase", "") == "done") out.logged_s = d["duration_s"];
  return out;
}

TEST(DropWork, ADropsLatencyDelaysQueuedRequestsAndTheStallByExactlyIt) {
  const DropRun now = drop_with(SimDuration{});
  const DropRun late = drop_with(ns_span(50'000'000));
  EXPECT_EQ(now.logged_s, -1) << "no work row without a latency";
  EXPECT_DOUBLE_EQ(late.logged_s, 0.05);
  EXPECT_EQ((late.ttft - now.ttft).ns(), 50'000'000);
  EXPECT_EQ((late.stall - now.stall).ns(), 50'000'000);
  // A blocking exchange takes the group over from the drop's work, and starts that much later.
  const DropRun blocking_now = drop_with(SimDuration{}, StaleKvMode::BlockingExchange);
  const DropRun blocking_late = drop_with(ns_span(50'000'000), StaleKvMode::BlockingExchange);
  EXPECT_EQ((blocking_late.stall - blocking_now.stall).ns(), 50'000'000);
  EXPECT_EQ((blocking_late.ttft - blocking_now.ttft).ns(), 50'000'000);
}

}  // namespace
}  // namespace kunsim
