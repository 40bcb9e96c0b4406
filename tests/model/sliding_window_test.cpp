// gpt-oss: mxfp4 experts, sliding-window layers and attention sinks. The catalogue's figures
// against the published sizes, the blocks a request holds for its sliding layers (vLLM frees
// those wholly outside the window), and the attention of a sliding layer priced at the window,
// each checked by hand.
#include <gtest/gtest.h>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "sim/cost/sliding_window_cost_model.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/serving/engine/request.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

// gpt-oss-120b (config.json: 36 layers, hidden 2880, 64 heads of 64, 8 KV heads, 128 experts
// of 2880, top-4, vocab 201088, sliding_window 128 in every other layer), per layer:
constexpr std::int64_t kAttention = 2880LL * (4096 + 2 * 512) + 4096LL * 2880;  // 26,542,080
constexpr std::int64_t kExpert = 3LL * 2880 * 2880;                             // 24,883,200
constexpr std::int64_t kSmall = (4096 + 2 * 512) + 64 + 2 * 2880;               // QKV bias, sinks, norms (bf16)
constexpr std::int64_t kRouter = 2880LL * 128;

TEST(GptOssModelSpec, MatchesThePublishedSizes) {
  const ModelSpec& m = find_model("gpt-oss-120b", "model");
  EXPECT_EQ(m.layer_params(), kAttention + kSmall + 128 * kExpert + kRouter);
  EXPECT_NEAR(static_cast<double>(m.total_params()) / 1e9, 116.8, 0.1);   // OpenAI: 116.8 B
  EXPECT_NEAR(static_cast<double>(m.active_params()) / 1e9, 5.13, 0.01);  // OpenAI: 5.1 B
  // mxfp4 experts (17/32 of a byte a weight), the rest bf16.
  EXPECT_EQ(m.expert_dtype(), Dtype::mxfp4);
  EXPECT_EQ(m.layer_weight_bytes(), 2 * (kAttention + kSmall + kRouter) + 128 * kExpert * 17 / 32);
  // The checkpoint is 60.8 GiB: its experts also hold biases, which kunsim leaves out.
  EXPECT_NEAR(static_cast<double>(m.total_weight_bytes()) / (1 << 30), 60.7, 0.05);
  const ModelSpec& small = find_model("gpt-oss-20b", "model");
  EXPECT_NEAR(static_cast<double>(small.total_params()) / 1e9, 20.9, 0.1);   // OpenAI: 20.9 B
  EXPECT_NEAR(static_cast<double>(small.active_params()) / 1e9, 3.6, 0.05);  // OpenAI: 3.6 B
}

TEST(GptOssModelSpec, ASlidingLayerHoldsNineBlocksARequest) {
  const ModelSpec& m = find_model("gpt-oss-120b", "model");
  EXPECT_EQ(m.sliding_layers_in(0, 36), 18);  // layers 0, 2, 4, ...: every other one
  EXPECT_TRUE(m.sliding_window.sliding(0));
  EXPECT_FALSE(m.sliding_window.sliding(1));
  EXPECT_EQ(m.sliding_layers_in(1, 3), 1);  // layers 1 (full), 2 (sliding), 3 (full)
  EXPECT_EQ(m.kv_layers(), 18);
  // cdiv(127, 16) + 1 = 9 blocks: the window's 128 tokens straddle at most 9 blocks of 16.
  EXPECT_EQ(m.window_blocks(16), 9);
  EXPECT_EQ(m.window_blocks(32), 5);
  // A pool block holds 16 tokens of the 18 full layers (2 x 8 x 64 bf16 each, TP 1); a request
  // of 1000 tokens holds cdiv(1000, 16) = 63 of them and 9 for its 18 sliding layers.
  EngineParams e;
  const MemoryPlan p = make_memory_plan(m, e, 80LL << 30, "deployment");
  EXPECT_EQ(p.block_bytes, 16 * 18 * 2 * 8 * 64 * 2);
  Request r;
  r.window_blocks = static_cast<std::int16_t>(m.window_blocks(16));
  EXPECT_EQ(r.blocks_at(1000, 16), 63 + 9);
}

TEST(GptOssCost, SlidingLayersAttendWithinTheWindow) {
  const ModelSpec& m = find_model("gpt-oss-120b", "model");
  const GpuSpec& gpu = gpu_registry().find("h100-sxm")->entry;
  auto full = std::make_unique<RooflineCostModel>(m, gpu, LinkParams{gpu.nvlink_bytes_per_s, 0}, 1, RooflineParams{});
  const RooflineCostModel inner(m, gpu, {gpu.nvlink_bytes_per_s, 0}, 1, RooflineParams{});
  const SlidingWindowCostModel swa(std::move(full), m);
  // 32 decodes at 4096 tokens: half the layers read 4096, half 128.
  BatchShape s;
  s.num_decodes = 32;
  s.decode_context_sum = 32 * 4096;
  s.layers = 36;
  BatchShape at_window = s;
  at_window.decode_context_sum = 32 * 128;
  EXPECT_NEAR(swa.iteration(s).attn_decode,
              0.5 * inner.iteration(s).attn_decode + 0.5 * inner.iteration(at_window).attn_decode, 1e-15);
  // A 4096-token prompt: each query attends to min(128, p) keys, 128 x 129 / 2 + 3968 x 128 in
  // all: the causal work of a prompt of sqrt(2 x that) = 1016 tokens.
  BatchShape p;
  p.prefills = {{4096, 0}};
  EXPECT_EQ(swa.windowed(p).prefills[0].tokens, 1016);
  // A chunk wholly past the window does n x 128: 512 after 8192 is the work of a 362-token prompt.
  p.prefills = {{512, 8192}};
  EXPECT_EQ(swa.windowed(p).prefills[0].tokens, 362);
  EXPECT_EQ(swa.windowed(p).prefills[0].context, 0);
}

TEST(GptOssRun, RunsOnOneH100WithItsMxfp4ExpertsMeasuredAndKunserveRefused) {
  const std::string scenario = std::string(KUNSIM_SOURCE_DIR) + "/scenarios/moe/gpt-oss-120b-h100.json";
  auto r = test::cli("run " + scenario + " --out " + test::scratch("gpt-oss").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("MoE experts 128x2880 top-4 h2880 mxfp4 tp1 ep1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sliding windows: 50% of layers at 128 tokens"), std::string::npos) << r.output;
  r = test::cli("run " + scenario + " --set policy.name=kunserve --out " + test::scratch("gpt-oss-ks").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("sliding-window layers (model.sliding_window)"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace kunsim
