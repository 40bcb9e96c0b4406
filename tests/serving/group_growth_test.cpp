// KunServe's group growth (g -> g' = k*g) on one node of four H100s (llama-3-8b TP1, four
// instances of 1000 blocks): a group of two takes in two instances and becomes four stages,
// with the figures of the re-lay and of the newcomer's exchange checked by hand.
#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"
#include "sim/serving/reconfig/kunserve/stage_relay.hpp"

namespace kunsim {
namespace {

struct GrowFixture : test::ClusterOf {
  GrowFixture() : ClusterOf(4, 1000) {}
  void check() {
    for (int s = 0; s < cluster->num_slots(); ++s) {
      const auto [e, m] = cluster->slot(s);
      ASSERT_LE(e->member_used_at(m, now), e->stages() == 1 ? e->kv().capacity() : e->members()[m].capacity());
      ASSERT_LE(e->kv().used(), e->kv().capacity());
    }
  }
  const nlohmann::json* decision(const std::string& kind, const std::string& phase = "", int nth = 0) const {
    for (const auto& d : observer.decisions)
      if (d["kind"] == kind && (phase.empty() || d.value("phase", "") == phase) && nth-- == 0) return &d;
    return nullptr;
  }
};

// Layers change hands only where an old stage's second part goes to its newcomer: 2 -> 4 over
// 32 layers, old stage 0 (layers 0-15) keeps 0-7 on member 0 and gives 8-15 to member 1; old
// stage 1 (16-31, now member 2) keeps 16-23 and gives 24-31 to member 3.
TEST(GroupGrowth, OnlyTheLayersAnOldStageGivesUpMove) {
  int from = 0, to = 0;
  EXPECT_FALSE(StageRelay::layer_moves(7, 2, 4, 32, &from, &to));
  EXPECT_TRUE(StageRelay::layer_moves(8, 2, 4, 32, &from, &to));
  EXPECT_EQ(from, 0);
  EXPECT_EQ(to, 1);
  EXPECT_FALSE(StageRelay::layer_moves(16, 2, 4, 32, &from, &to));
  EXPECT_EQ(from, 2);
  EXPECT_TRUE(StageRelay::layer_moves(31, 2, 4, 32, &from, &to));
  EXPECT_EQ(from, 2);
  EXPECT_EQ(to, 3);
  // 2 -> 6: each old stage of 16 layers splits 6/5/5 (boundaries 0, 5, 10, 16, 21, 26).
  EXPECT_FALSE(StageRelay::layer_moves(4, 2, 6, 32, &from, &to));
  EXPECT_TRUE(StageRelay::layer_moves(5, 2, 6, 32, &from, &to));
  EXPECT_EQ(to, 1);
  EXPECT_TRUE(StageRelay::layer_moves(15, 2, 6, 32, &from, &to));
  EXPECT_EQ(to, 2);
  EXPECT_FALSE(StageRelay::layer_moves(16, 2, 6, 32, &from, &to));
  EXPECT_EQ(from, 3);
}

TEST(GroupGrowth, TwoStagesGrowToFourWithHandCheckedFigures) {
  GrowFixture f;
  // Slot 0: two requests of 1600 prompt tokens; slot 1: one of 800; slot 2: one of 800 (50
  // blocks); slot 3 idle.
  std::vector<Request*> all{f.add(0, 0, 1600, 1500), f.add(1, 0, 1600, 1500), f.add(2, 0, 800, 1500),
                            f.add(3, 0, 800, 1500)};
  for (int i = 0; i < 4; ++i) f.cluster->instance(i < 2 ? 0 : i - 1)->enqueue(all[i], kSimTimeZero);
  f.run_until({}, 500'000'000, [&] { f.check(); });
  FuseOptions opt;  // stall-exchange: up to 8 stale requests per virtual engine each step
  ASSERT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  // The group's exchange is running: no growth until its stale KV is laid out.
  EXPECT_FALSE(f.cluster->grow(4, {2, 3}, opt, f.now));
  f.run_until({}, 1'000'000'000, [&] { f.check(); });
  ASSERT_NE(f.decision("kv_exchange", "done"), nullptr);

  EXPECT_FALSE(f.cluster->grow(4, {2}, opt, f.now)) << "g' must be a multiple of g";
  EXPECT_FALSE(f.cluster->grow(2, {3}, opt, f.now)) << "only a group grows";
  EXPECT_FALSE(f.cluster->grow(4, {2, 4}, opt, f.now)) << "partners are normal engines";
  ASSERT_TRUE(f.cluster->grow(4, {2, 3}, opt, f.now));
  f.run_until({}, 2'000'000'000, [&] { f.check(); });

  const nlohmann::json* grow = f.decision("grow", "begin");
  ASSERT_NE(grow, nullptr);
  EXPECT_EQ((*grow)["from_instance"], 4);
  EXPECT_EQ((*grow)["from_g"], 2);
  EXPECT_EQ((*grow)["g"], 4);
  // Stage order: old stage 0 (slot 0), its newcomer (slot 2), old stage 1 (slot 1), slot 3.
  EXPECT_EQ((*grow)["instances"], nlohmann::json::array({0, 2, 1, 3}));
  EXPECT_EQ((*grow)["added"], nlohmann::json::array({2, 3}));
  // Every member keeps 8 of 32 layers: 24 x 436,224,000 B / 2,097,152 B = 4992 blocks freed.
  EXPECT_EQ((*grow)["freed_blocks"], nlohmann::json::array({4992, 4992, 4992, 4992}));
  EXPECT_EQ((*grow)["relaid_requests"], 3);
  EXPECT_EQ((*grow)["stale_requests"], 1);  // slot 2's request; slot 3 had none
  const std::int64_t relaid = (*grow)["relaid_blocks"], stale = (*grow)["stale_blocks"];
  EXPECT_GE(relaid, 100 + 100 + 50);
  EXPECT_GE(stale, 50);

  // Re-lay: half the layers move (8-15 and 24-31), so half of every per-stage block: relaid x
  // 2,097,152 / 2 bytes. The two old stages send at once on disjoint NVLink routes, a layer at a
  // time: 8 layers of relaid x 65,536 B at 450 GB/s plus two 2 us hops each.
  const nlohmann::json* relay = f.decision("grow", "done");
  ASSERT_NE(relay, nullptr);
  EXPECT_EQ((*relay)["bytes"].get<std::int64_t>(), relaid * 2'097'152 / 2);
  const double per_layer_s = static_cast<double>(relaid) * 65'536 / 450e9 + 4e-6;
  EXPECT_NEAR((*relay)["duration_s"].get<double>(), 8 * per_layer_s, 8e-9);

  // The newcomer's stale request is exchanged next: its home (member 1) keeps 8 of 32 layers,
  // so 24/32 of its blocks move.
  const nlohmann::json* ex = f.decision("kv_exchange", "done", 1);
  ASSERT_NE(ex, nullptr);
  EXPECT_EQ((*ex)["requests"], 1);
  EXPECT_EQ((*ex)["bytes"].get<std::int64_t>(), stale * 2'097'152 * 3 / 4);
  Engine* g = f.cluster->engine_list().back();
  ASSERT_EQ(g->stages(), 4);
  EXPECT_EQ(g->stale_requests(), 0);
  EXPECT_EQ(g->kv().capacity(), 4 * (1000 + 4992));

  // Restored to four instances, nothing is lost.
  ASSERT_TRUE(f.cluster->restore(g->id(), f.now, "test", RestorePull::Overlap));
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  ASSERT_NE(f.decision("restore", "split"), nullptr);
  EXPECT_EQ(f.cluster->engine_list().size(), 4u);
  ASSERT_EQ(f.observer.done.size(), 4u);
  for (const Request* r : all) EXPECT_EQ(r->generated, 1500);
  for (Engine* e : f.cluster->engine_list()) EXPECT_EQ(e->kv().used(), 0);
}

// With stale_kv=recompute the re-lay is not made: the group's requests and the newcomers'
// prefill again in the grown group.
// The grown group adopts the old group's KV re-laid evenly over all four stages, beside each
// partner's own KV on its member. With 20000 base blocks a member (24992 at g = 4), partners
// holding 19000 blocks each leave 5992 a stage: 4 x 5992 + 38000 < the 30000 re-laid + 38000.
// The growth is refused, where partners holding 2000 each leave room.
bool grows_beside_partners_holding(int partner_requests) {
  struct Big : test::ClusterOf {
    Big() : ClusterOf(4, 20000) {}
  } f;
  RequestId id = 0;
  for (int i = 0; i < 300; ++i) f.cluster->instance(i % 2)->enqueue(f.add(id++, 0, 1600, 20000), kSimTimeZero);
  f.run_until({}, 5'000'000'000, [] {});
  EXPECT_TRUE(f.cluster->fuse({0, 1}, FuseOptions{}, f.now));
  for (int i = 0; i < 2 * partner_requests; ++i)
    f.cluster->instance(2 + i % 2)->enqueue(f.add(id++, f.now.ns(), 1600, 20000), f.now);
  f.run_until({}, 15'000'000'000, [] {});
  EXPECT_EQ(f.cluster->engine_list().back()->stale_requests(), 0);
  return f.cluster->grow(4, {2, 3}, FuseOptions{}, f.now);
}

TEST(GroupGrowth, AGrowthWhoseReLaidKvWouldNotFitBesideThePartnersIsRefused) {
  EXPECT_FALSE(grows_beside_partners_holding(190));
  EXPECT_TRUE(grows_beside_partners_holding(20));
}

TEST(GroupGrowth, RecomputeModeRecomputesInsteadOfReLaying) {
  GrowFixture f;
  std::vector<Request*> all{f.add(0, 0, 1600, 600), f.add(1, 0, 800, 600)};
  f.cluster->instance(0)->enqueue(all[0], kSimTimeZero);
  f.cluster->instance(2)->enqueue(all[1], kSimTimeZero);
  f.run_until({}, 300'000'000, [&] { f.check(); });
  FuseOptions opt;
  opt.stale_kv = StaleKvMode::Recompute;
  ASSERT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
  f.run_until({}, 600'000'000, [&] { f.check(); });
  ASSERT_TRUE(f.cluster->grow(4, {2, 3}, opt, f.now));
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  const nlohmann::json* grow = f.decision("grow", "begin");
  ASSERT_NE(grow, nullptr);
  EXPECT_EQ((*grow)["recomputed"], 2);
  EXPECT_EQ((*grow)["relaid_blocks"], 0);
  EXPECT_EQ(f.decision("grow", "done"), nullptr);
  EXPECT_EQ(f.decision("kv_exchange"), nullptr);
  for (const Request* r : all) EXPECT_EQ(r->generated, 600);
}

// The policy's side: a fused group whose queue still outgrows its free blocks votes again at its
// next check and grows with the two idle instances (no dwell, to keep the run short).
TEST(GroupGrowth, KunServeGrowsAGroupThatVotesAgain) {
  GrowFixture f;
  auto policy = policy_maker(nlohmann::json{{"name", "kunserve"}, {"min_dwell_s", 0}}, "policy")();
  ASSERT_TRUE(f.cluster->fuse({0, 1}, {}, kSimTimeZero));  // idle: fused at once, group 4
  std::vector<Request*> all;
  for (RequestId id = 0; id < 30; ++id) {  // 438 blocks each: far more than the group's 8656
    all.push_back(f.add(id, 0, 7000, 300));
    f.cluster->instance(4)->enqueue(all.back(), kSimTimeZero);
  }
  f.run_until({}, 2'000'000'000, [&] { f.check(); });
  const Engine* g = f.cluster->instance(4);
  ASSERT_NE(g, nullptr);
  ASSERT_GE(g->kv_used_at(f.now), g->kv().capacity() * 95 / 100);
  ASSERT_GE(g->queued_blocks(), g->kv().capacity() - g->kv_used_at(f.now));
  policy->on_tick(*f.cluster, *f.cluster, f.now);
  f.run_until({}, kSimTimeMax, [&] { f.check(); });
  const nlohmann::json* grow = f.decision("grow", "begin");
  ASSERT_NE(grow, nullptr);
  EXPECT_EQ((*grow)["from_g"], 2);
  EXPECT_EQ((*grow)["g"], 4);
  EXPECT_EQ((*grow)["added"], nlohmann::json::array({2, 3}));
  EXPECT_EQ((*grow)["freed_blocks_total"], 4 * 4992 - 2 * 3328);
  EXPECT_EQ((*grow)["partner_free_blocks"], 2 * 1000);
  EXPECT_EQ((*grow)["votes"], 2);
  EXPECT_NE(f.decision("grow", "done"), nullptr);
  ASSERT_EQ(f.observer.done.size(), all.size());
  for (const Request* r : all) EXPECT_EQ(r->generated, 300);
}

}  // namespace
}  // namespace kunsim
