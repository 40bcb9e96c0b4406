// Mixture-of-experts and fp8 models: the catalogue's figures against their public configs, the
// bytes one GPU holds with and without expert parallelism, and the roofline's count of the
// experts a batch touches, each checked by hand.
#include <gtest/gtest.h>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "sim/model/memory_plan.hpp"

namespace kunsim {
namespace {

// Mixtral-8x7B, per layer: attention 4096 x (4096 + 2 x 1024) + 4096 x 4096 = 41,943,040
// params; 8 experts of 3 x 4096 x 14336 = 176,160,768 params each; router 4096 x 8; two norms.
constexpr std::int64_t kMixtralAttention = 41'943'040;
constexpr std::int64_t kMixtralExpert = 176'160'768;
constexpr std::int64_t kMixtralRouter = 4096 * 8;
constexpr std::int64_t kMixtralNorms = 2 * 4096;
constexpr std::int64_t kMixtralEmbeddings = 2LL * 32000 * 4096 + 4096;  // embedding, LM head, final norm

TEST(MoeModelSpec, MixtralMatchesItsPublishedSize) {
  const ModelSpec& m = find_model("mixtral-8x7b", "model");
  ASSERT_TRUE(m.moe.on());
  EXPECT_EQ(m.layer_params(), kMixtralAttention + 8 * kMixtralExpert + kMixtralRouter + kMixtralNorms);
  // 46.7 B in all; a token runs 2 of the 8 experts: 12.9 B with both embedding tables (the
  // published figure), 12.75 B counting the LM head only, as `kunsim models` does.
  EXPECT_EQ(m.total_params(), 32 * m.layer_params() + kMixtralEmbeddings);
  EXPECT_NEAR(static_cast<double>(m.total_params()) / 1e9, 46.70, 0.01);
  EXPECT_NEAR(static_cast<double>(m.active_params()) / 1e9, 12.75, 0.01);
  EXPECT_EQ(m.total_weight_bytes(), 2 * m.total_params());
  EXPECT_EQ(m.kv_bytes_per_token(), 32 * 2 * 8 * 128 * 2);
}

TEST(MoeModelSpec, Qwen3HeadDimIsDecoupledFromHidden) {
  const ModelSpec& q = find_model("qwen3-32b", "model");
  EXPECT_EQ(q.q_width(), 64 * 128);  // 8192 query width over a 5120 hidden
  EXPECT_EQ(q.hidden, 5120);
  const ModelSpec& big = find_model("qwen3-235b-a22b", "model");
  EXPECT_NEAR(static_cast<double>(big.total_params()) / 1e9, 235.1, 0.1);
  EXPECT_EQ(big.kv_bytes_per_token(), 94 * 2 * 4 * 128 * 2);
  const ModelSpec& small = find_model("qwen3-30b-a3b", "model");
  EXPECT_NEAR(static_cast<double>(small.total_params()) / 1e9, 30.5, 0.1);
  // 3.3 B active as Qwen counts it (both embedding tables): 3.04 B + 151,936 x 2048.
  EXPECT_NEAR(static_cast<double>(small.active_params() + 151'936LL * 2048) / 1e9, 3.35, 0.01);
}

TEST(MoeModelSpec, ExpertBytesPerGpuWithAndWithoutExpertParallelism) {
  ModelSpec m = find_model("mixtral-8x7b", "model");
  // TP 2: every expert split in two; EP 2: four whole experts each. The same bytes.
  const std::int64_t experts_tp2 = 8 * kMixtralExpert * 2 / 2;
  EXPECT_EQ(m.expert_bytes_per_gpu(2), experts_tp2);
  m.expert_parallel = true;
  EXPECT_EQ(m.expert_bytes_per_gpu(2), 4 * kMixtralExpert * 2);
  // Six experts over four GPUs: TP holds 1.5 experts' worth each; EP deals out 2, 2, 1, 1 and
  // a GPU must hold the most.
  ModelSpec six = m;
  six.moe.experts = 6;
  six.expert_parallel = false;
  EXPECT_EQ(six.expert_bytes_per_gpu(4), 6 * kMixtralExpert * 2 / 4);
  six.expert_parallel = true;
  EXPECT_EQ(six.expert_bytes_per_gpu(4), 2 * kMixtralExpert * 2);

  // The whole of Mixtral on one GPU of TP 2: half of the attention, norms and embeddings, the
  // router whole (vLLM replicates it), half of the experts.
  m.expert_parallel = false;
  const std::int64_t split = 2 * (32 * (kMixtralAttention + kMixtralNorms) + kMixtralEmbeddings);
  EXPECT_EQ(m.weight_bytes_per_gpu(2), split / 2 + 32 * (2 * kMixtralRouter + experts_tp2));
  EXPECT_NEAR(static_cast<double>(m.weight_bytes_per_gpu(2)) / kGiB, 43.50, 0.01);
  // fp8 weights halve the linear layers, not the embeddings, norms or router.
  m.weight_dtype = Dtype::fp8;
  EXPECT_EQ(m.weight_bytes_per_gpu(2), (32 * (kMixtralAttention + 2 * kMixtralNorms) + 2 * kMixtralEmbeddings) / 2 +
                                           32 * (2 * kMixtralRouter + 8 * kMixtralExpert / 2));
}

TEST(MoeModelSpec, Fp8KvDoublesTheBlocksAGibHolds) {
  ModelSpec m = find_model("mixtral-8x7b", "model");
  EngineParams e;
  e.tp = 2;
  const MemoryPlan bf16 = make_memory_plan(m, e, find_gpu("h100-sxm", "gpu").memory_bytes, "deployment");
  m.kv_cache_dtype = Dtype::fp8;
  const MemoryPlan fp8 = make_memory_plan(m, e, find_gpu("h100-sxm", "gpu").memory_bytes, "deployment");
  // A block: 16 tokens x 32 layers x (4 KV heads x 128 x K and V) per GPU, at 2 bytes or 1.
  EXPECT_EQ(bf16.block_bytes, 16 * 32 * 4 * 128 * 2 * 2);
  EXPECT_EQ(fp8.block_bytes, bf16.block_bytes / 2);
  EXPECT_EQ(fp8.kv_bytes, bf16.kv_bytes);
  EXPECT_GE(fp8.num_blocks, 2 * bf16.num_blocks);
  EXPECT_LE(fp8.num_blocks, 2 * bf16.num_blocks + 1);
}

// An MoE model whose first layers keep a dense MLP (DeepSeek-V3's first_k_dense_replace), small
// enough to check by hand: 8 layers, the first 2 dense.
ModelSpec two_dense_of_eight() {
  return model_from_json(Json::parse(R"({"layers": 8, "hidden": 1024, "heads": 8, "kv_heads": 2, "ffn": 4096,
      "vocab": 1000, "moe": {"experts": 16, "top_k": 2, "expert_ffn": 512, "dense_layers": 2}})"),
                         "model", "two-dense");
}

TEST(MoeModelSpec, LeadingDenseLayersHoldTheirOwnBytes) {
  const ModelSpec m = two_dense_of_eight();
  const std::int64_t attention = 1024LL * (1024 + 2 * 256) + 1024LL * 1024, norms = 2 * 1024;
  const std::int64_t dense = 2 * (attention + 3LL * 1024 * 4096 + norms);
  const std::int64_t moe = 2 * (attention + 16 * 3LL * 1024 * 512 + 1024 * 16 + norms);
  EXPECT_EQ(m.layer_weight_bytes(true), dense);
  EXPECT_EQ(m.layer_weight_bytes(), moe);
  EXPECT_EQ(m.total_weight_bytes(), 2 * dense + 6 * moe + m.embedding_weight_bytes());
  // A pipeline stage of layers 0-3 holds both dense layers; the stage of 4-7 drops them.
  EXPECT_EQ(m.layers_weight_bytes_per_gpu(0, 4, 1), 2 * dense + 2 * moe);
  EXPECT_EQ(m.other_layers_weight_bytes_per_gpu(0, 4, 1), 4 * moe);
  EXPECT_EQ(m.other_layers_weight_bytes_per_gpu(4, 4, 1), 2 * dense + 2 * moe);
  EXPECT_EQ(m.layers_weight_bytes_per_gpu(0, 8, 1) + m.embedding_weight_bytes(), m.weight_bytes_per_gpu(1));
  EXPECT_EQ(m.dense_layers_in(1, 4), 1);
  EXPECT_DOUBLE_EQ(m.dense_layers_priced(8), 2.0);
  EXPECT_DOUBLE_EQ(m.dense_layers_priced(4), 1.0);  // a stage: pro rata
}

TEST(MoeRoofline, PricesLeadingDenseLayersAsDenseOnes) {
  const ModelSpec m = two_dense_of_eight();
  ModelSpec all_moe = m, dense = m;
  all_moe.moe.dense_layers = 0;
  dense.moe = MoeSpec{};
  const GpuSpec& h100 = find_gpu("h100-sxm", "gpu");
  const RooflineParams p;
  auto mlp = [&](const ModelSpec& spec) {
    const RooflineCostModel r(spec, h100, {h100.nvlink_bytes_per_s, 0}, 1, p);
    BatchShape s;
    s.num_decodes = 32;
    s.decode_context_sum = 32 * 500;
    s.layers = 8;
    return r.iteration(s).mlp;
  };
  EXPECT_NEAR(mlp(m), mlp(all_moe) * 6 / 8 + mlp(dense) * 2 / 8, 1e-12);
}

TEST(MoeRoofline, CountsTheExpertsABatchTouches) {
  const ModelSpec& m = find_model("mixtral-8x7b", "model");
  const GpuSpec& h100 = find_gpu("h100-sxm", "gpu");
  const RooflineParams p;
  const RooflineCostModel r(m, h100, {h100.nvlink_bytes_per_s, 0}, 1, p);
  // One token touches its 2 experts: their weights read once, memory bound, two launches.
  const double two = 2.0 * kMixtralExpert * 2 / (h100.hbm_bytes_per_s * p.memory_efficiency);
  EXPECT_NEAR(r.moe_experts(1), two + 2 * p.gemm_latency_us * 1e-6, 0.02 * two);
  // 64 tokens touch nearly all 8: 8 (1 - (3/4)^64).
  const double all = 8.0 * kMixtralExpert * 2 / (h100.hbm_bytes_per_s * p.memory_efficiency);
  EXPECT_NEAR(r.moe_experts(64), all + 2 * p.gemm_latency_us * 1e-6, 0.02 * all);
  // fp8 weights read half the bytes.
  ModelSpec f = m;
  f.weight_dtype = Dtype::fp8;
  const RooflineCostModel r8(f, h100, {h100.nvlink_bytes_per_s, 0}, 1, p);
  EXPECT_NEAR(r8.moe_experts(64) - 2 * p.gemm_latency_us * 1e-6, all / 2, 0.02 * all);
}

}  // namespace
}  // namespace kunsim
