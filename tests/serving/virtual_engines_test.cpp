// A pipeline group's virtual engines (policy.micro_batches: virtual-engines, the reference's
// default): an arrival binds to the engine with the fewest unfinished requests, a member's
// requests stay in its own engine, and an engine with a prefill steps prefill-only while its
// decodes sit the step out; the step is priced from each engine's own micro-batch. Under
// look-ahead every decode runs every step. On the 2-instance llama-3-8b cluster of
// engine_fixture.hpp, fused into a group of g = 2.
#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"

namespace kunsim {
namespace {

struct Works : test::Recorded {
  std::vector<std::pair<SimTime, SimTime>> steps;  // (start, end) of each single iteration
  void on_work(const Engine& e, SimTime start, SimTime end, std::int64_t n, int, std::int64_t) override {
    if (e.stages() > 1 && n == 1) steps.emplace_back(start, end);
  }
};

struct Fused {
  test::ClusterOf f{2, 2000};
  Works works;
  Request *a = nullptr, *b = nullptr;
  Engine* group = nullptr;

  // One long request on each instance, fused, their KV exchanged: a in engine 0, b in 1.
  explicit Fused(MicroBatching m) {
    f.ctx.observer = &works;
    f.cluster = std::make_unique<ServingCluster>(f.ctx, 2, 2000, 0, make_dispatcher("round_robin", "dispatch"));
    a = f.add(0, 0, 500, 3000);
    b = f.add(1, 0, 700, 3000);
    f.cluster->instance(0)->enqueue(a, kSimTimeZero);
    f.cluster->instance(1)->enqueue(b, kSimTimeZero);
    f.run_until({}, 300'000'000, [] {});
    FuseOptions opt;
    opt.micro_batching = m;
    EXPECT_TRUE(f.cluster->fuse({0, 1}, opt, f.now));
    f.run_until({}, 600'000'000, [] {});
    group = f.cluster->engine_list().back();
    EXPECT_EQ(group->stages(), 2);
    EXPECT_EQ(group->stale_requests(), 0);
  }
  int generated(Request* r) const {
    group->sync(r);
    return r->generated;
  }
};

TEST(VirtualEngines, ArrivalsGoToTheEngineWithTheFewestUnfinishedRequests) {
  Fused x(MicroBatching::VirtualEngines);
  EXPECT_EQ(x.a->ve, 0) << "a member's requests stay in its own virtual engine";
  EXPECT_EQ(x.b->ve, 1);
  Request* c = x.f.add(2, x.f.now.ns(), 100, 10);
  Request* d = x.f.add(3, x.f.now.ns(), 100, 10);
  Request* e = x.f.add(4, x.f.now.ns(), 100, 10);
  x.group->enqueue(c, x.f.now);  // loads 1, 1: the lower
  x.group->enqueue(d, x.f.now);  // 2, 1
  x.group->enqueue(e, x.f.now);  // 2, 2
  EXPECT_EQ(c->ve, 0);
  EXPECT_EQ(d->ve, 1);
  EXPECT_EQ(e->ve, 0);
  x.group->check_virtual_engines();
  x.f.run_until({}, kSimTimeMax, [&] { x.group->check_virtual_engines(); });
  EXPECT_EQ(x.a->generated, 3000);
  EXPECT_EQ(x.b->generated, 3000);
}

// c's prompt arrives for engine 0: its one step is prefill-only, so a (engine 0) gets no token
// from it while b (engine 1) does; every other step gives both one.
struct PrefillStep {
  int a_behind_b = 0;
  int b_after = 0;  // b's outputs after the step
  SimDuration step;
  std::int64_t expected_ns = 0;
};

PrefillStep prefill_step(MicroBatching m) {
  Fused x(m);
  const int a0 = x.generated(x.a), b0 = x.generated(x.b);
  Request* c = x.f.add(2, x.f.now.ns(), 1600, 20);
  x.group->enqueue(c, x.f.now);
  EXPECT_EQ(c->ve, 0);
  x.works.steps.clear();
  PrefillStep out;
  bool seen = false;
  x.f.run_until({}, kSimTimeMax, [&] {
    if (seen || !c->first_token) return;
    seen = true;
    out.b_after = x.generated(x.b);
    out.a_behind_b = (out.b_after - b0) - (x.generated(x.a) - a0);
    const auto& [start, end] = x.works.steps.back();
    out.step = end - start;
  });
  EXPECT_TRUE(seen);
  // The same step priced by hand from its micro-batches: c's 1600-token prefill on engine 0,
  // b's decode on engine 1 (a sits out) under virtual-engines.
  const Engine& g = *x.group;
  const ModelSpec& model = g.model();
  PipelineGeometry geo{2, 1, model.layers, pipeline_links(*x.f.ctx.topology, g.members(), model)};
  BatchShape prefill, decode, whole;
  prefill.layers = decode.layers = stage_layers(1, 2, model.layers);
  prefill.prefills = {{1600, 0}};
  prefill.sampled = 1;
  decode.num_decodes = decode.sampled = 1;
  decode.decode_context_sum = 700 + out.b_after - 1;  // it attended to its prompt and outputs before
  whole = decode;
  whole.prefills = prefill.prefills;
  whole.sampled = 2;
  whole.layers = model.layers;
  out.expected_ns =
      static_cast<std::int64_t>(std::llround(pipeline_cycle_ns(g.cost(), geo, whole, {prefill, decode}, 0, nullptr)));
  return out;
}

TEST(VirtualEngines, AnEngineWithAPrefillStepsPrefillOnlyItsDecodesSittingOut) {
  const PrefillStep ve = prefill_step(MicroBatching::VirtualEngines);
  EXPECT_EQ(ve.a_behind_b, 1) << "a sat out the step of c's prefill";
  EXPECT_NEAR(ve.step.ns(), ve.expected_ns, 1);
  const PrefillStep la = prefill_step(MicroBatching::LookAhead);
  EXPECT_EQ(la.a_behind_b, 0) << "look-ahead: every decode runs every step";
  EXPECT_GT(ve.step.ns(), la.step.ns()) << "the prefill's micro-batch is not split with the decodes";
}

}  // namespace
}  // namespace kunsim
