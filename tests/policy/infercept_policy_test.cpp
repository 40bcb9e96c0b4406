// InferCept as its paper defines the choice: least GPU memory waste between discard (recompute
// stalls the whole batch) and swap (the copy ties up the request's own memory); and swaps that
// overlap compute, which is where it differs from vllm-swap.
#include <gtest/gtest.h>

#include <cstdio>

#include "serving/engine_fixture.hpp"

namespace kunsim {
namespace {

TEST(InferCept, PicksTheOptionThatWastesLeastMemoryTime) {
  test::InstanceFixture f(find_model("llama-3-8b", "model"), RooflineParams{}, 4000, "infercept");
  // The victim: 1600 tokens decoding, 100 blocks; beside it a batch holding 1000 more.
  Request* victim = f.add(1, 0, 1599, 50);
  victim->phase = Phase::Decode;
  victim->generated = 1;
  victim->blocks = 100;
  Request* other = f.add(2, 0, 15999, 50);
  other->phase = Phase::Decode;
  other->generated = 1;
  other->blocks = 1000;
  EngineTestPeer::fusion(*f.inst).adopt_running(victim);
  EngineTestPeer::fusion(*f.inst).adopt_running(other);
  const PreemptDecision d = f.policy->on_preempt(*f.inst, *victim);
  // The copy one way: 100 blocks x 2,097,152 B over PCIe at 64 GB/s + 5 us = 3.2818 ms, and
  // one decode step of the two requests takes longer, so the copies hide behind compute:
  // swap waste = 2 x 3.2818 ms x 100 blocks = 0.65636 block-s.
  EXPECT_EQ(d.mode, PreemptMode::Swap) << d.reason;
  EXPECT_NE(d.reason.find("swap 0.6564 block-s (copy 0.0066 s)"), std::string::npos) << d.reason;
  // Discard waste: the 1600-token recompute stalls all 1100 blocks of the batch.
  BatchShape prefill;
  prefill.prefills = {{1600, 0}};
  prefill.layers = f.model.layers;
  prefill.sampled = 1;
  char discard[64];
  std::snprintf(discard, sizeof discard, "discard %.4g block-s", f.cost.iteration(prefill).sum() * 1100);
  EXPECT_NE(d.reason.find(discard), std::string::npos) << d.reason << " / " << discard;
  EXPECT_TRUE(f.policy->swaps_overlap_compute());
}

// On long answers that outgrow memory both swap every preempted request (PCIe is far cheaper
// than recomputing these contexts), but InferCept's copies overlap the step's compute while
// vLLM's step waits for them: lower latency (and so fewer preemptions).
TEST(InferCept, DiffersFromVllmSwapWhereSwapsOverlapCompute) {
  Json j = parse_json_file(std::string(KUNSIM_SOURCE_DIR) + "/scenarios/paper/long-output.json");
  j["cost"] = {{"model", "roofline"}};
  j["policy"] = {{"name", "vllm-swap"}};
  const Json swap = test::run_scenario(j);
  j["policy"] = {{"name", "infercept"}};
  const Json ic = test::run_scenario(j);
  ASSERT_GT(swap["planner"]["swaps_out"].get<int>(), 100);
  EXPECT_EQ(swap["planner"]["recomputes"], 0);
  EXPECT_EQ(ic["planner"]["recomputes"], 0);
  EXPECT_GT(ic["planner"]["swaps_out"].get<int>(), 100);
  EXPECT_LT(ic["e2e_s"]["mean"].get<double>(), swap["e2e_s"]["mean"].get<double>());
  EXPECT_LT(ic["ttft_s"]["p99"].get<double>(), swap["ttft_s"]["p99"].get<double>());
}

}  // namespace
}  // namespace kunsim
