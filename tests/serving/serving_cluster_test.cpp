// KunServe's drop -> KV exchange -> restore on a tiny cluster (1 node, 2 H100s, llama-3-8b
// TP1, 2 instances), with the figures of one drop checked by hand; and Llumnix's migration.
#include "sim/serving/fleet/serving_cluster.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"

namespace kunsim {
namespace {

using test::InstanceFixture;

struct ClusterFixture : test::ClusterOf {
  explicit ClusterFixture(std::int64_t blocks) : ClusterOf(2, blocks) {}
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
  opt.stale_kv = StaleKvMode::LiveExchange;
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

  ASSERT_TRUE(f.cluster->restore(g->id(), f.now, "test"));
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
