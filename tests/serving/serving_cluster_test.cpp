// KunServe's drop -> KV exchange -> restore on a tiny cluster (1 node, 2 H100s, llama-3-8b
// TP1, 2 instances), with the figures of one drop checked by hand; and Llumnix's migration.
#include "sim/serving/fleet/serving_cluster.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"

namespace kunsim {
namespace {

using test::InstanceFixture;

struct ClusterFixture : test::ClusterOf {
  explicit ClusterFixture(std::int64_t blocks, int instances = 2) : ClusterOf(instances, blocks) {}
  // Every slot's member usage within its capacity; requests never lost.
  void check() {
    for (int s = 0; s < cluster->num_slots(); ++s) {
      const auto [e, m] = cluster->slot(s);
      ASSERT_LE(e->member_used_at(m, now), e->stages() == 1 ? e->kv().capacity() : e->members()[m].capacity());
      ASSERT_LE(e->kv().used(), e->kv().capacity());
    }
  }
  const nlohmann::json* decision(const std::string& kind, const std::string& phase = "") const {
    for (const auto& d : observer.decisions)
      if (d["kind"] == kind && (phase.empty() || d.value("phase", "") == phase)) return &d;
    return nullptr;
  }
};

TEST(ServingCluster, DropExchangeRestoreWithHandCheckedFigures) {
  ClusterFixture f(1000);
  // Slot 0: two requests of 1600 prompt tokens (100 blocks each); slot 1: one of 800 (50).
  Request* a = f.add(0, 0, 1600, 600);
  Request* b = f.add(1, 0, 1600, 600);
  Request* c = f.add(2, 0, 800, 600);
  f.cluster->instance(0)->enqueue(a, kSimTimeZero);
  f.cluster->instance(0)->enqueue(b, kSimTimeZero);
  f.cluster->instance(1)->enqueue(c, kSimTimeZero);
  f.run_until({}, 1'000'000'000, [&] { f.check(); });

  FuseOptions opt;
  opt.stale_kv = StaleKvMode::RemoteAttention;
  ASSERT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  f.run_until({}, 1'500'000'000, [&] { f.check(); });

  const nlohmann::json* drop = f.decision("drop");
  ASSERT_NE(drop, nullptr);
  // Freed per member: 16 of 32 layers x 218,112,000 params x 2 B = 6,979,584,000 B; a block is
  // 16 tokens x 131,072 B = 2,097,152 B: 3328 blocks each.
  EXPECT_EQ((*drop)["freed_blocks"], nlohmann::json::array({3328, 3328}));
  EXPECT_EQ((*drop)["stale_requests"], 3);
  const std::int64_t stale = (*drop)["stale_blocks"];
  EXPECT_GE(stale, 250);  // 100 + 100 + 50 prompt blocks, plus what decoding added
  // Group pool: g x min(capacity - stale on that member) + all stale KV.
  Engine* g = f.cluster->engine_list().back();
  ASSERT_EQ(g->stages(), 2);
  // Exchange: every stale block moves (g-1)/g of itself: stale x 2,097,152 / 2 bytes.
  const nlohmann::json* ex = f.decision("kv_exchange", "done");
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ((*ex)["bytes"].get<std::int64_t>(), stale * 2'097'152 / 2);
  EXPECT_EQ((*ex)["requests"], 3);
  EXPECT_EQ(g->stale_requests(), 0);
  EXPECT_EQ(g->kv().capacity(), 2 * (1000 + 3328)) << "no stale KV left: the whole pool is per-stage";

  ASSERT_TRUE(f.cluster->restore(g->id(), f.now, "test", RestorePull::Overlap));
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  // Pull: each member fetches 16 layers (6,979,584,000 B) over NVLink (450 GB/s, two 2 us
  // hops): 15,510,186.67 ns + 4,000 ns -> 15,514,187 ns; both directions run in parallel.
  const nlohmann::json* pull = f.decision("restore", "pull");
  ASSERT_NE(pull, nullptr);
  EXPECT_EQ((*pull)["bytes"].get<std::int64_t>(), 2 * 6'979'584'000LL);
  EXPECT_NEAR((*pull)["duration_s"].get<double>(), 15'514'187e-9, 1e-9);
  ASSERT_NE(f.decision("restore", "split"), nullptr);
  EXPECT_EQ(f.cluster->engine_list().size(), 2u);
  EXPECT_EQ(f.cluster->engine_list()[0]->stages(), 1);
  // Nothing lost: all three requests finished with every output.
  ASSERT_EQ(f.observer.done.size(), 3u);
  for (const Request* r : {a, b, c}) EXPECT_EQ(r->generated, 600);
  for (Engine* e : f.cluster->engine_list()) EXPECT_EQ(e->kv().used(), 0);
}

// stall-exchange, the reference's livereshard, by hand. Slot 0 holds a and b, slot 1 holds c;
// each home is one virtual engine taking up to 8 a step. The first step after the drop: VE 0
// splits {a, b} into 2 slices (a, then b), VE 1's {c} is its second slice; the three go one
// after another, each its blocks x 1 MiB (16 of 32 layers x 2 MiB / 32) to the other member.
// Nothing else runs in that step (all three are stalled), so it is the exchange alone; from the
// next step on all three decode again.
struct StallRun {
  std::int64_t stale_blocks = 0;
  double critical_path_s = 0, exchange_done_s = 0, drop_s = 0, duration_s = 0;
  std::int64_t steps = 0, bytes = 0;
  std::vector<int> generated_at_drop, generated_at_exchange;
  std::vector<SimDuration> drop_gaps;
};

StallRun stall_exchange(ExchangePath path, int batch = 8, SimDuration interval = {}) {
  ClusterFixture f(1000);
  std::vector<Request*> rs{f.add(0, 0, 1600, 600), f.add(1, 0, 1600, 600), f.add(2, 0, 800, 600)};
  f.cluster->instance(0)->enqueue(rs[0], kSimTimeZero);
  f.cluster->instance(0)->enqueue(rs[1], kSimTimeZero);
  f.cluster->instance(1)->enqueue(rs[2], kSimTimeZero);
  f.run_until({}, 1'000'000'000, [&] { f.check(); });
  FuseOptions opt;  // stall-exchange is the default
  opt.exchange.path = path;
  opt.exchange.batch = batch;
  opt.exchange.interval = interval;
  EXPECT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  StallRun out;
  // Stop at the drop (the step boundary after f.now) and at the exchange's end.
  auto at = [&](const char* kind, const char* phase) { return f.decision(kind, phase) != nullptr; };
  f.run_until({}, kSimTimeMax, [&] {
    f.check();
    if (out.generated_at_drop.empty() && at("drop", "")) {
      for (Request* r : rs) out.generated_at_drop.push_back(r->generated);  // synced by the fusion
      const Engine* g = f.cluster->engine_list().back();
      EXPECT_EQ(g->decoding(), 0) << "stalled requests decode nothing";
    }
    if (out.generated_at_exchange.empty() && at("kv_exchange", "done")) {
      for (Request* r : rs) {
        f.cluster->engine_list().back()->sync(r);
        out.generated_at_exchange.push_back(r->generated);
      }
    }
  });
  const nlohmann::json& drop = *f.decision("drop");
  const nlohmann::json& done = *f.decision("kv_exchange", "done");
  out.stale_blocks = drop["stale_blocks"];
  out.drop_s = drop["t_ns"].get<double>() * 1e-9;
  out.exchange_done_s = done["t_ns"].get<double>() * 1e-9;
  out.critical_path_s = done["critical_path_s"];
  out.duration_s = done["duration_s"];
  out.steps = done["steps"];
  out.bytes = done["bytes"];
  EXPECT_EQ(done["requests"], 3);
  EXPECT_EQ(done["path"], exchange_path_name(path));
  for (Request* r : rs) EXPECT_EQ(r->generated, 600) << "nothing lost";
  out.drop_gaps = f.observer.drop_gaps;
  return out;
}

TEST(ServingCluster, StallExchangeStallsStaleRequestsUntilTheirStepsExchangeEndsThenTheyResume) {
  const StallRun p2p = stall_exchange(ExchangePath::P2p);
  EXPECT_EQ(p2p.steps, 1) << "3 requests, up to 8 a virtual engine: one step";
  EXPECT_EQ(p2p.bytes, p2p.stale_blocks * 1'048'576);
  // Three transfers one after another over NVLink: 2 x 2 us latency + bytes / 450 GB/s each
  // (each rounded up to the ns: within 3 ns of the sum).
  const double expected = 3 * 4e-6 + static_cast<double>(p2p.stale_blocks) * 1'048'576 / 450e9;
  EXPECT_NEAR(p2p.critical_path_s, expected, 3e-9);
  // The step was the exchange alone: it ended exactly when the exchange did.
  EXPECT_NEAR(p2p.exchange_done_s - p2p.drop_s, expected, 3e-9);
  // No request produced a token between the drop and the end of its exchange.
  EXPECT_EQ(p2p.generated_at_exchange, p2p.generated_at_drop);
  // Each resumed at the next step: its gap across the drop is longer than the exchange.
  ASSERT_EQ(p2p.drop_gaps.size(), 3u);
  for (SimDuration gap : p2p.drop_gaps) EXPECT_GT(ns_to_seconds(gap), expected);
}

TEST(ServingCluster, AHostStagedExchangeRunsAtPcieSpeed) {
  const StallRun p2p = stall_exchange(ExchangePath::P2p);
  const StallRun host = stall_exchange(ExchangePath::Host);
  EXPECT_EQ(host.bytes, p2p.bytes);
  // Through the host: the sender's GPU-to-host and the receiver's host-to-GPU PCIe (64 GB/s,
  // 5 us) at once, per transfer.
  const double expected = 3 * 5e-6 + static_cast<double>(host.stale_blocks) * 1'048'576 / 64e9;
  EXPECT_NEAR(host.critical_path_s, expected, 3e-9);
  EXPECT_GT(host.critical_path_s, 6 * p2p.critical_path_s);
}

// One request per virtual engine per step: step 1 exchanges a (VE 0) and c (VE 1), step 2 b, so
// b stalls a step longer. With exchange_interval_s (a what-if) the second exchanging step waits
// for the interval.
TEST(ServingCluster, StallExchangeTakesABatchPerVirtualEngineAStepAndAnIntervalSpacesThem) {
  const StallRun every_step = stall_exchange(ExchangePath::P2p, 1);
  EXPECT_EQ(every_step.steps, 2);
  ASSERT_EQ(every_step.drop_gaps.size(), 3u);
  EXPECT_LT(every_step.duration_s, 0.1) << "two steps of the group";
  const StallRun spaced = stall_exchange(ExchangePath::P2p, 1, kNsPerSecond / 2);
  EXPECT_EQ(spaced.steps, 2);
  EXPECT_GE(spaced.duration_s, 0.5);
  EXPECT_LT(spaced.duration_s, 0.6);
  EXPECT_EQ(spaced.bytes, every_step.bytes);
}

// A restore's pull: under RestorePull::Stall the group pauses at its next step boundary and
// runs no step until the pull ends (the reference's worker actors run the pull between
// forwards); under Overlap it keeps decoding. Before the pull the group still takes arrivals.
struct PullRun {
  int generated_at_pull = -1, generated_at_gather = -1;
  double pull_s = 0;
  bool dispatchable_while_vacating = false, dispatchable_during_pull = true;
};

PullRun restore_with(RestorePull pull) {
  ClusterFixture f(1000, 3);  // a third instance takes the arrivals a restoring group does not
  Request* a = f.add(0, 0, 1600, 4000);
  f.cluster->instance(0)->enqueue(a, kSimTimeZero);
  f.run_until({}, 500'000'000, [&] { f.check(); });
  EXPECT_TRUE(f.cluster->fuse({0, 1}, FuseOptions{}, f.now));
  f.run_until({}, 1'000'000'000, [&] { f.check(); });
  Engine* g = f.cluster->engine_list().back();
  EXPECT_EQ(g->stale_requests(), 0);
  // 25 more of 100 blocks each: the group holds more than its 2 x 1000 base blocks, so the
  // restore must first vacate.
  for (RequestId id = 1; id <= 25; ++id) g->enqueue(f.add(id, f.now.ns(), 1600, 200), f.now);
  f.run_until({}, 1'600'000'000, [&] { f.check(); });
  EXPECT_GT(g->kv().used(), 2000);
  EXPECT_TRUE(f.cluster->restore(g->id(), f.now, "test", pull));
  EXPECT_EQ(f.decision("restore", "pull"), nullptr) << "still vacating";
  auto takes_arrivals = [&] {
    for (const EngineView* e : f.cluster->dispatchable())
      if (e->id() == g->id()) return true;
    return false;
  };
  PullRun out;
  out.dispatchable_while_vacating = takes_arrivals();
  f.run_until({}, kSimTimeMax, [&] {
    f.check();
    if (out.generated_at_pull < 0 && f.decision("restore", "pull")) {
      g->sync(a);
      out.generated_at_pull = a->generated;
      out.pull_s = (*f.decision("restore", "pull"))["duration_s"];
      out.dispatchable_during_pull = takes_arrivals();
    }
    if (out.generated_at_gather < 0 && f.decision("restore", "gather")) {
      g->sync(a);
      out.generated_at_gather = a->generated;
    }
  });
  EXPECT_EQ(a->generated, 4000) << "nothing lost";
  return out;
}

TEST(ServingCluster, ARestoresPullStallsTheGroupOrOverlapsItsSteps) {
  const PullRun stall = restore_with(RestorePull::Stall);
  EXPECT_TRUE(stall.dispatchable_while_vacating);
  EXPECT_FALSE(stall.dispatchable_during_pull);
  // 15.5 ms of pull (16 layers each way over NVLink, as above), and not one token meanwhile.
  EXPECT_NEAR(stall.pull_s, 15'514'187e-9, 1e-9);
  EXPECT_EQ(stall.generated_at_gather, stall.generated_at_pull);
  const PullRun overlap = restore_with(RestorePull::Overlap);
  EXPECT_NEAR(overlap.pull_s, stall.pull_s, 1e-9);
  // A g=2 decode step of one request is a few ms: the group decodes through the pull.
  EXPECT_GT(overlap.generated_at_gather, overlap.generated_at_pull + 1);
}

TEST(ServingCluster, RecomputeModeDropsStaleKvAndPrefillsAgain) {
  ClusterFixture f(1000);
  Request* a = f.add(0, 0, 1600, 300);
  f.cluster->instance(0)->enqueue(a, kSimTimeZero);
  f.run_until({}, 500'000'000, [&] { f.check(); });
  FuseOptions opt;
  opt.stale_kv = StaleKvMode::Recompute;
  ASSERT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  EXPECT_EQ((*f.decision("drop"))["recomputed"], 1);
  EXPECT_EQ(f.decision("kv_exchange"), nullptr);
  EXPECT_EQ(a->generated, 300);
}

TEST(ServingCluster, BlockingExchangeHoldsTheGroupUntilDone) {
  ClusterFixture f(1000);
  Request* a = f.add(0, 0, 1600, 300);
  f.cluster->instance(0)->enqueue(a, kSimTimeZero);
  f.run_until({}, 500'000'000, [&] { f.check(); });
  const int before = a->generated;
  FuseOptions opt;
  opt.stale_kv = StaleKvMode::BlockingExchange;
  ASSERT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  // 100+ blocks x 2 MiB / 2 over NVLink take ~0.25 ms: no token can come out before that.
  f.run_until({}, f.now + ns_span(200'000), [&] { f.check(); });
  f.cluster->engine_list().back()->sync(a);
  EXPECT_LE(a->generated, before + 1);
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  ASSERT_NE(f.decision("kv_exchange", "done"), nullptr);
  EXPECT_EQ(a->generated, 300);
}

TEST(ServingCluster, MigrationMovesADecodeWithItsKv) {
  ClusterFixture f(1000);
  Request* a = f.add(0, 0, 1600, 800);
  Request* b = f.add(1, 0, 800, 800);
  f.cluster->instance(0)->enqueue(a, kSimTimeZero);
  f.cluster->instance(0)->enqueue(b, kSimTimeZero);
  f.run_until({}, 300'000'000, [&] { f.check(); });
  ASSERT_TRUE(f.cluster->migrate(0, 1, 1, f.now));
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  const nlohmann::json* end = f.decision("migrate", "end");
  ASSERT_NE(end, nullptr);
  EXPECT_EQ((*end)["reason"], "done");
  EXPECT_EQ(b->instance, 1);
  EXPECT_EQ(a->instance, 0);
  EXPECT_EQ(a->generated, 800);
  EXPECT_EQ(b->generated, 800);
}

}  // namespace
}  // namespace kunsim
