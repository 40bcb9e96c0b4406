#include "sim/serving/engine/engine.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"

namespace kunsim {
namespace {

using test::InstanceFixture;

// One instance, two requests, ideal roofline on an H100 (989e12 FLOP/s, 3.35e12 B/s),
// tiny_model(). A: prompt 64, output 3. B: prompt 32, output 2. Both arrive at t = 0.
//
// Iteration 1 (prefill A and B together, T = 96 tokens, 2 sequences sample):
//   every GEMM is memory bound (bytes = (K*N + M*K + M*N) * 2):
//   qkv  96x1024 by 1024x3072: (3,145,728 + 98,304 + 294,912) * 2 = 7,077,888 B -> 2.112802 us
//   o    96x1024 by 1024x1024: (1,048,576 + 98,304 + 98,304) * 2 = 2,490,368 B -> 0.743393 us
//   mlp  gate_up 96x1024x2048: 4,784,128 B -> 1.428098 us; down 96x1024x1024: 0.743393 us;
//        element-wise kernels (bytes moved): 2 fused residual-add RMSNorms 2 * 4*96*1024*2 =
//        1,572,864; SiLU-and-mul 3*96*1024*2 = 589,824; rope on Q and K 2*96*2048*2 = 786,432;
//        KV-cache write 4*96*1024*2 = 786,432; 3,735,552 B -> 1.115090 us
//        = 3.286581 us
//   attention: flops 4*8*128*(64*65/2 + 32*33/2) = 10,682,368 -> 0.0108 us, bytes
//        (96 tokens of K,V: 393,216) + (Q and O: 393,216) = 786,432 B -> 0.234756 us
//   lm_head 2x1024 by 1024x1024: 2,105,344 B -> 0.628461 us
//   cpu 100 us.  Sum = 107.005994 us -> TTFT(A) = TTFT(B) = 107,006 ns.
// Iteration 2 (decode A (context 65) and B (context 33): T = 2, 98 context tokens):
//   qkv 6,307,840 B -> 1.882937; o 0.628461; mlp 1.907391 (element-wise 77,824 B); attention
//   (98*4096 + 8192 = 409,600 B) -> 0.122269; lm_head 0.628461; cpu 100 => 105.169519 us.
//   B has its 2 outputs: finishes at 107,006 + 105,170 = 212,176 ns; TPOT(B) = 105,170 ns.
// Iteration 3 (decode A alone, context 66): 105.109607 us -> 105,110 ns.
//   A finishes at 212,176 + 105,110 = 317,286 ns; TPOT(A) = (105,170 + 105,110) / 2.
TEST(Engine, HandWorkedTwoRequests) {
  InstanceFixture f(test::tiny_model(), test::ideal_roofline(), 1000);
  Request* a = f.add(0, 0, 64, 3);
  Request* b = f.add(1, 0, 32, 2);
  f.run({a, b});
  ASSERT_EQ(f.observer.done.size(), 2u);
  EXPECT_EQ(f.observer.done[0], b);
  EXPECT_EQ(*a->first_token, at_ns(107'006));
  EXPECT_EQ(*b->first_token, at_ns(107'006));
  EXPECT_EQ(*b->finished, at_ns(212'176));
  EXPECT_EQ(*a->finished, at_ns(317'286));
  EXPECT_EQ(*b->finished - *b->first_token, ns_span(105'170));                // TPOT(B) x 1 step
  EXPECT_DOUBLE_EQ((*a->finished - *a->first_token).ns() / 2.0, 105'140);  // TPOT(A)
  // Blocks (16 tokens): A 4 -> 5 at its first decode, B 2 -> 3: peak 8, all freed at the end.
  EXPECT_EQ(f.inst->kv().peak_used(), 8);
  EXPECT_EQ(f.inst->kv().used(), 0);
}

TEST(Engine, LongDecodeIsOneJumpAndMatchesSteppingTheCostModel) {
  InstanceFixture f(find_model("llama-3-8b", "model"), RooflineParams{}, 100000);
  Request* r = f.add(0, 0, 1000, 2000);
  f.run({r});
  // Reference: price every decode step separately (context 1001 .. 2999).
  BatchShape prefill;
  prefill.prefills = {{1000, 0}};
  prefill.layers = 32;
  prefill.sampled = 1;
  const SimTime ttft = at_seconds(f.cost.iteration(prefill).sum());
  double decode_ns = 0;
  for (int g = 1; g < 2000; ++g) {
    BatchShape s;
    s.num_decodes = 1;
    s.decode_context_sum = 1000 + g;
    s.layers = 32;
    s.sampled = 1;
    decode_ns += f.cost.iteration(s).sum() * 1e9;
  }
  EXPECT_EQ(*r->first_token, ttft);
  EXPECT_NEAR(static_cast<double>((*r->finished - ttft).ns()), decode_ns, 2.0);
  EXPECT_EQ(f.inst->counters().jumps, 1) << "1999 decode steps, one event";
  EXPECT_EQ(f.inst->counters().iterations, 1);
  EXPECT_EQ(f.inst->kv().peak_used(), Request::blocks_for(2999, 16));
}

TEST(Engine, ArrivalCutsAJumpAtTheNextStepBoundary) {
  InstanceFixture f(find_model("llama-3-8b", "model"), RooflineParams{}, 100000);
  Request* a = f.add(0, 0, 500, 1000);
  Request* c = f.add(1, 150'000'000, 300, 5);  // arrives 150 ms in, mid-decode of A
  f.run({a, c});
  // C is admitted at the first step boundary of A's decode run at or after 150 ms.
  BatchShape s;
  s.num_decodes = 1;
  s.decode_context_sum = 501;
  s.layers = 32;
  s.sampled = 1;
  const DecodeRun run = f.cost.decode_run(s);
  const SimDuration off = at_ns(150'000'000) - *a->first_token;
  std::int64_t k = run.steps_by(off);
  if (run.elapsed(k) < off) ++k;
  EXPECT_EQ(*c->scheduled, *a->first_token + run.elapsed(k));
  EXPECT_LT(*a->first_token + run.elapsed(k - 1), at_ns(150'000'000));
  EXPECT_EQ(a->generated, 1000);
  EXPECT_EQ(c->generated, 5);
}

TEST(Engine, OutOfBlocksPreemptsTheNewestAndRecomputes) {
  // 40 blocks of 16 tokens = 640 tokens. Two requests of prompt 200 (13 blocks each) growing
  // to 200 + 400 tokens cannot both stay: the newer one is preempted, recomputed later.
  InstanceFixture f(test::tiny_model(), test::ideal_roofline(), 40);
  Request* a = f.add(0, 0, 200, 400);
  Request* b = f.add(1, 0, 200, 400);
  f.run({a, b});
  ASSERT_EQ(f.observer.done.size(), 2u);
  EXPECT_GE(b->preemptions, 1);
  EXPECT_EQ(a->preemptions, 0);
  ASSERT_FALSE(f.observer.decisions.empty());
  EXPECT_EQ(f.observer.decisions[0]["kind"], "preempt");
  EXPECT_EQ(f.observer.decisions[0]["request"], 1);
  EXPECT_EQ(a->generated, 400);
  EXPECT_EQ(b->generated, 400);
  EXPECT_EQ(f.inst->kv().used(), 0);
}

TEST(Engine, SwapPolicyMovesKvToHostAndBack) {
  InstanceFixture f(test::tiny_model(), test::ideal_roofline(), 40, "vllm-swap", 1000);
  Request* a = f.add(0, 0, 200, 400);
  Request* b = f.add(1, 0, 200, 400);
  f.run({a, b});
  ASSERT_EQ(f.observer.done.size(), 2u);
  EXPECT_GE(f.inst->counters().swaps_out, 1);
  EXPECT_EQ(f.inst->counters().swaps_out, f.inst->counters().swaps_in);
  EXPECT_EQ(f.inst->counters().recomputes, 0);
  EXPECT_EQ(f.inst->host_swap_used(), 0);
  // The swap crossed gpu0's PCIe link both ways: bytes = blocks x block bytes each way.
  const Route& out = f.topology.gpu_to_host(0);
  EXPECT_GT(f.links.bytes_moved(out[0]), 0);
  EXPECT_EQ(f.links.bytes_moved(out[0]), f.links.bytes_moved(f.topology.host_to_gpu(0)[0]));
}

TEST(Engine, SwapFallsBackToRecomputeWhenHostSpaceIsFull) {
  InstanceFixture f(test::tiny_model(), test::ideal_roofline(), 40, "vllm-swap", 5);
  Request* a = f.add(0, 0, 200, 400);
  Request* b = f.add(1, 0, 200, 400);
  f.run({a, b});
  ASSERT_EQ(f.observer.done.size(), 2u);
  EXPECT_EQ(f.inst->counters().swaps_out, 0);
  EXPECT_GE(f.inst->counters().recomputes, 1);
  EXPECT_NE(f.observer.decisions[0]["reason"].get<std::string>().find("swap space full"), std::string::npos);
}

}  // namespace
}  // namespace kunsim
