#include "sim/cost/roofline_cost_model.hpp"

#include <gtest/gtest.h>

namespace kunsim {
namespace {

// `n` decodes attending to `context_sum` tokens in all, each sampling one token.
BatchShape decodes(int n, std::int64_t context_sum) {
  BatchShape s;
  s.num_decodes = n;
  s.decode_context_sum = context_sum;
  s.layers = 32;
  s.sampled = n;
  return s;
}

RooflineCostModel h100_llama(int tp = 1) {
  return RooflineCostModel(find_model("llama-3-8b", "model"), find_gpu("h100-sxm", "gpu"), {450e9, 2000}, tp, {});
}

TEST(RooflineCostModel, DecodeStepIsNearTheDesignSanityFigure) {
  // DESIGN.md: 64 requests at 1k context read ~16 GB of weights + ~8.6 GB of KV: ~8 ms at HBM speed.
  const auto cm = h100_llama();
  const BatchShape s = decodes(64, 64 * 1024);
  const IterationCost c = cm.iteration(s);
  const double bytes_s = (15.0e9 + 64.0 * 1024 * 131072) / 3.35e12;  // layer weights + KV at peak HBM
  EXPECT_GT(c.sum(), bytes_s);
  EXPECT_LT(c.sum(), bytes_s / 0.85 + 0.004) << "memory-bound time over efficiency plus CPU/launch overheads";
  EXPECT_GT(c.attn_decode, 0);
  EXPECT_EQ(c.attn_prefill, 0);
}

TEST(RooflineCostModel, LargePrefillIsComputeBound) {
  const auto cm = h100_llama();
  BatchShape s;
  s.prefills = {{8192, 0}};
  s.layers = 32;
  s.sampled = 1;
  const IterationCost c = cm.iteration(s);
  // GEMMs: 2 x 8192 tokens x 7.0 B layer params / (989 TFLOP/s x 0.8) plus 2.8 us each, and
  // the memory-bound element-wise kernels (two fused residual-add RMSNorms 2 x 4 x T x hidden,
  // SiLU-and-mul 3 x T x ffn, rope 2 x T x (q + kv), KV write 4 x T x kv; bf16) at 3.35 TB/s
  // x 0.8 plus 3 us each (aiconfigurator's correction).
  const double gemm_s = 2.0 * 8192 * 32 * 218'112'000.0 / (989e12 * 0.8) + 32 * 4 * 2.8e-6;
  const double T = 8192, d = 2;
  const double elementwise_s =
      32 * ((2 * 4 * T * 4096 + 3 * T * 14336 + 2 * T * (4096 + 1024) + 4 * T * 1024) * d / (3.35e12 * 0.8) + 5 * 3e-6);
  EXPECT_NEAR(c.qkv + c.o_proj + c.mlp, gemm_s + elementwise_s, 0.02 * gemm_s);
  EXPECT_GT(c.attn_prefill, 0.0);
}

TEST(RooflineCostModel, PrefillAttentionIsPricedPerRequest) {
  // Prefill chunks attend over their own context: one chunk at 8k context costs more than two
  // at 4k each, though the mean context is the same.
  const auto cm = h100_llama();
  BatchShape one, two;
  one.prefills = {{512, 8192}, {512, 0}};
  two.prefills = {{512, 4096}, {512, 4096}};
  one.layers = two.layers = 32;
  EXPECT_NEAR(cm.iteration(one).attn_prefill, cm.iteration(two).attn_prefill, 1e-9)
      << "linear in context: equal sums cost the same";
  BatchShape skewed;
  skewed.prefills = {{1000, 0}, {24, 0}};
  BatchShape even;
  even.prefills = {{512, 0}, {512, 0}};
  skewed.layers = even.layers = 32;
  EXPECT_GT(cm.iteration(skewed).attn_prefill, cm.iteration(even).attn_prefill) << "causal attention is quadratic per request";
}

TEST(RooflineCostModel, TensorParallelAddsAllReduceAndShrinksShards) {
  const auto tp1 = h100_llama(1);
  const auto tp2 = h100_llama(2);
  BatchShape s;
  s.prefills = {{4096, 0}};
  s.layers = 32;
  EXPECT_EQ(tp1.iteration(s).allreduce, 0);
  EXPECT_GT(tp2.iteration(s).allreduce, 0);
  EXPECT_LT(tp2.iteration(s).mlp, 0.6 * tp1.iteration(s).mlp);
}

TEST(RooflineCostModel, PipelineSendMovesHiddenStatesPerToken) {
  const auto cm = h100_llama();
  EXPECT_EQ(cm.activation_bytes(1000), 1000 * 4096 * 2);
  // 8,192,000 bytes over 50 GB/s RDMA with 5 us latency: 163.84 us + 5 us.
  EXPECT_NEAR(cm.pipeline_send(1000, 50e9, 5000), 168.84e-6, 1e-12);
}

TEST(DecodeRun, ClosedFormMatchesSteppingAndInvertsExactly) {
  const auto cm = h100_llama();
  const BatchShape s = decodes(37, 37 * 700);
  const DecodeRun run = cm.decode_run(s);
  double stepped = 0;
  for (int k = 0; k < 500; ++k) {
    BatchShape at = s;
    at.decode_context_sum += std::int64_t{k} * s.num_decodes;
    stepped += cm.iteration(at).sum() * 1e9;
  }
  EXPECT_NEAR(static_cast<double>(run.elapsed(500).ns()), stepped, 2.0) << "roofline decode is affine in context";
  for (std::int64_t k : {0, 1, 2, 17, 499}) {
    EXPECT_EQ(run.steps_by(run.elapsed(k)), k);
    if (k > 0) {
      EXPECT_EQ(run.steps_by(run.elapsed(k) - ns_span(1)), k - 1);
    }
  }
}

}  // namespace
}  // namespace kunsim
