// Google Benchmark of the simulator's hot paths: the event queue, decode-jump bookkeeping,
// the cost model and a whole small run. Speed is reported, never asserted in tests:
//   build/tests/bench/kunsim_bench
#include <benchmark/benchmark.h>

#include "run/scenario.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/core/rng.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "sim/serving/engine/decode_cohort.hpp"
#include "run/simulation.hpp"

namespace kunsim {
namespace {

struct Nop : EventHandler {
  void handle_event(SimTime, std::uint64_t) override {}
};

void BM_EventQueuePushPop(benchmark::State& state) {
  EventQueue q;
  Nop h;
  Rng rng(1);
  const auto n = static_cast<int>(state.range(0));
  for (int i = 0; i < n; ++i) q.schedule(at_ns(static_cast<std::int64_t>(rng.next_u64() % 1'000'000'000)), &h);
  SimTime now = kSimTimeZero;
  for (auto _ : state) {
    auto e = q.pop();
    now = e->time;
    q.schedule(now + ns_span(static_cast<std::int64_t>(rng.next_u64() % 1'000'000)), &h);
  }
  benchmark::DoNotOptimize(now);
}
BENCHMARK(BM_EventQueuePushPop)->Arg(64)->Arg(4096);

void BM_DecodeCohortJumpPlanning(benchmark::State& state) {
  DecodeCohort c(16);
  std::vector<Request> rs(static_cast<std::size_t>(state.range(0)));
  Rng rng(2);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    rs[i].id = i;
    rs[i].prompt = 100 + static_cast<int>(rng.next_u64() % 2000);
    rs[i].output = 2000;
    rs[i].generated = 1 + static_cast<int>(rng.next_u64() % 500);
    rs[i].ve = 0;
    c.add(&rs[i]);
  }
  for (auto _ : state) {
    const std::int64_t k = c.steps_fitting(5000, c.steps_to_next_finish());
    benchmark::DoNotOptimize(c.blocks_needed(k));
  }
}
BENCHMARK(BM_DecodeCohortJumpPlanning)->Arg(16)->Arg(256);

void BM_RooflineIteration(benchmark::State& state) {
  const RooflineCostModel cm(find_model("llama-3-8b", "model"), find_gpu("h100-sxm", "gpu"), {450e9, 2000}, 1, {});
  BatchShape s;
  s.prefills = {{512, 0}, {300, 1200}};
  s.num_decodes = 128;
  s.decode_context_sum = 128 * 900;
  s.layers = 32;
  s.sampled = 130;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cm.iteration(s).sum());
    ++s.decode_context_sum;
  }
}
BENCHMARK(BM_RooflineIteration);

void BM_DefaultScenario(benchmark::State& state) {
  const Scenario sc = load_scenario("", {"workload.window.duration_s=600"}, "");
  std::int64_t requests = 0;
  for (auto _ : state) {
    Json s = Simulation(sc, RunOptions{.out_dir = "", .wall_clock = false}).run();
    requests += s["requests"]["arrived"].get<std::int64_t>();
  }
  state.counters["requests_per_s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DefaultScenario)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kunsim

BENCHMARK_MAIN();
