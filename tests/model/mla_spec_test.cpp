// Multi-head latent attention (DeepSeek-V3): the catalogue's figures against its public config,
// the latent cache one GPU holds at any TP, the bytes one GPU holds with the down-projections
// whole on every rank, and the roofline's two attention paths, each checked by hand.
#include <gtest/gtest.h>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/model/speculative_spec.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

// DeepSeek-V3 (config.json: hidden 7168, 128 heads, q_lora_rank 1536, kv_lora_rank 512,
// qk_nope 128, qk_rope 64, v_head 128, 256 experts of 2048, 1 shared, first 3 layers dense of
// 18432, vocab 129280), per layer:
//   q_a 7168 x 1536 = 11,010,048     q_b 1536 x 128 x 192 = 37,748,736
//   kv_a 7168 x 576 = 4,128,768      kv_b 512 x 128 x 256 = 16,777,216
//   o 128 x 128 x 7168 = 117,440,512                                   attention 187,105,280
constexpr std::int64_t kAttention = 187'105'280;
constexpr std::int64_t kDownProjections = 11'010'048 + 4'128'768;  // fused_qkv_a_proj: every rank holds it whole
constexpr std::int64_t kNorms = 2 * 7168 + 1536 + 512;             // the layer's two and the latents' two
constexpr std::int64_t kExpert = 3LL * 7168 * 2048;                // one routed or shared expert
constexpr std::int64_t kRouter = 7168LL * 256;
constexpr std::int64_t kDenseMlp = 3LL * 7168 * 18432;
constexpr std::int64_t kTable = 129'280LL * 7168;  // the embedding; the LM head is as large

TEST(MlaModelSpec, DeepSeekV3MatchesItsPublishedSize) {
  const ModelSpec& m = find_model("deepseek-v3", "model");
  ASSERT_TRUE(m.mla.on());
  EXPECT_EQ(m.attention_linear_params(), kAttention);
  EXPECT_EQ(m.replicated_attention_params(), kDownProjections);
  EXPECT_EQ(m.layer_params(), kAttention + kNorms + kExpert + 256 * kExpert + kRouter);
  EXPECT_EQ(m.layer_params(true), kAttention + kNorms + kDenseMlp);
  EXPECT_EQ(m.total_params(), 58 * m.layer_params() + 3 * m.layer_params(true) + 2 * kTable + 7168);
  // 671 B parameters, 37 B activated (DeepSeek's figures, the MTP module apart).
  EXPECT_NEAR(static_cast<double>(m.total_params()) / 1e9, 671.0, 0.1);
  EXPECT_NEAR(static_cast<double>(m.active_params()) / 1e9, 36.6, 0.1);
  EXPECT_EQ(m.weight_dtype, Dtype::fp8_block);
}

TEST(MlaModelSpec, TheLatentCacheIsWholeOnEveryGpu) {
  ModelSpec m = find_model("deepseek-v3", "model");
  // 61 layers x (512 + 64) x 2 bytes, at any TP: vLLM does not shard the latent.
  for (const int tp : {1, 2, 8, 16}) EXPECT_EQ(m.kv_bytes_per_token_per_layer_per_gpu(tp) * m.layers, 70'272) << tp;
  EXPECT_EQ(m.kv_bytes_per_token(), 70'272);
  m.kv_cache_dtype = Dtype::fp8;
  EXPECT_EQ(m.kv_bytes_per_token_per_layer_per_gpu(8) * m.layers, 35'136);
}

TEST(MlaModelSpec, BytesPerGpuKeepTheDownProjectionsWhole) {
  ModelSpec m = find_model("deepseek-v3", "model");
  m.expert_parallel = true;
  // fp8_block linear layers (1 byte), bf16 norms, router and embeddings. TP 8 splits what is left
  // of each layer once; each GPU adds its whole down-projections, the router and 32 experts.
  const std::int64_t moe_split = (kAttention - kDownProjections) + kExpert + 2 * kNorms;
  const std::int64_t dense_split = (kAttention - kDownProjections) + kDenseMlp + 2 * kNorms;
  const std::int64_t split = 58 * moe_split + 3 * dense_split + 2 * (2 * kTable + 7168);
  const std::int64_t whole = 61 * kDownProjections + 58 * (2 * kRouter + 32 * kExpert);
  EXPECT_EQ(m.weight_bytes_per_gpu(8), (split + 7) / 8 + whole);
  // A pipeline stage's share: the layers' bytes add up to the whole model's, embeddings apart.
  EXPECT_EQ(m.layers_weight_bytes_per_gpu(0, 3, 8), 3 * dense_split / 8 + 3 * kDownProjections);
  EXPECT_EQ(m.other_layers_weight_bytes_per_gpu(0, 3, 8), m.layers_weight_bytes_per_gpu(3, 58, 8));
  // In bf16 it is 1.34 TB: no 8-GPU H200 node holds it (141 GB each).
  ModelSpec bf16 = m;
  bf16.weight_dtype = Dtype::bf16;
  EXPECT_NEAR(static_cast<double>(bf16.total_weight_bytes()) / 1e12, 1.342, 0.001);
  EXPECT_GT(bf16.weight_bytes_per_gpu(8), 141'000'000'000LL);
}

TEST(MlaModelSpec, ItsMtpModuleIsAnFp8MoeLayer) {
  const ModelSpec& m = find_model("deepseek-v3", "model");
  const Json j = Json::parse(R"({"method": "mtp", "num_tokens": 1, "acceptance": 0.8})");
  const SpeculativeSpec s = speculative_from_json(&j, "deployment.speculative", m);
  ASSERT_TRUE(s.draft);
  EXPECT_EQ(s.draft->dense_layers_in(0, 1), 0);  // an MoE layer, though the model's first 3 are dense
  // The MoE layer in fp8_block (router and norms bf16), eh_proj (2 x 7168 -> 7168) in fp8, two
  // bf16 norms: 11.5 GB over TP 8.
  const std::int64_t layer =
      (kAttention + kExpert + 256 * kExpert) + 2 * (kNorms + kRouter) + 2LL * 7168 * 7168 + 2 * 7168 * 2;
  EXPECT_EQ(s.draft_weight_bytes_per_gpu(m, 8), (layer + 7) / 8);
  EXPECT_EQ(s.draft_kv_bytes_per_token_per_gpu(8), 576 * 2);  // its own latent, one layer
}

TEST(MlaModelSpec, AMemoryPlanHoldsTheLatentPerBlock) {
  const ModelSpec& m = find_model("deepseek-v3", "model");
  EngineParams e;
  e.tp = 8;
  const MemoryPlan p = make_memory_plan(m, e, 150'000'000'000LL, "deployment");
  EXPECT_EQ(p.block_bytes, 16 * 70'272);
}

TEST(MlaModelSpec, GqaKeysBesideTheLatentExitTwo) {
  const auto r = test::cli(
      "run --set 'model={\"name\":\"x\",\"layers\":2,\"hidden\":1024,\"heads\":8,\"ffn\":2048,\"kv_heads\":8,"
      "\"mla\":{\"kv_lora_rank\":128,\"qk_nope_head_dim\":64,\"qk_rope_head_dim\":32,\"v_head_dim\":64}}' --out " +
      test::scratch("mla-bad").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("model.kv_heads: not used with model.mla"), std::string::npos) << r.output;
}

TEST(MlaRoofline, DecodeReadsTheLatentOnceForAllHeads) {
  const ModelSpec& m = find_model("deepseek-v3", "model");
  const GpuSpec& gpu = gpu_registry().find("h200")->entry;
  RooflineParams p;
  p.attention_latency_us = 0;
  const RooflineCostModel r(m, gpu, {gpu.nvlink_bytes_per_s, 0}, 8, p);
  // 256 decodes of 32k tokens: 256 x 32768 x 576 x 2 bytes of latent read per layer (plus the
  // queries' 16 x 1088 x 2 bytes each), far beyond what 16 heads' FLOPs take.
  BatchShape s;
  s.num_decodes = 256;
  s.decode_context_sum = 256LL * 32768;
  s.layers = 1;
  const double bytes = 256.0 * 32768 * 576 * 2 + 256.0 * 16 * 1088 * 2;
  EXPECT_NEAR(r.mla_attention(s).decode, bytes / (gpu.hbm_bytes_per_s * p.attention_memory_efficiency), 1e-12);
  // The same context as one 32k prompt: expanded heads at 192 / 128 wide, compute bound.
  BatchShape pf;
  pf.prefills = {{32768, 0}};
  pf.layers = 1;
  const double flops = 16 * 2.0 * (192 + 128) * 32768 * (32768 + 1) / 2.0;
  const double eff = p.attention_efficiency * 32768 / (32768 + p.attention_half_len);
  EXPECT_NEAR(r.mla_attention(pf).prefill, flops / (gpu.bf16_flops * eff), 1e-9);
}

}  // namespace
}  // namespace kunsim
