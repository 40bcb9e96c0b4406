#include "sim/model/memory_plan.hpp"

#include <gtest/gtest.h>

namespace kunsim {
namespace {

TEST(ModelSpec, Llama3_8bSizesMatchThePublishedModel) {
  const ModelSpec& m = find_model("llama-3-8b", "model");
  // 8.03 B parameters: 32 layers x 218,112,000 + 2 x 128,256 x 4096 embeddings + final norm.
  EXPECT_EQ(m.layer_params(), 218'112'000);
  EXPECT_EQ(m.total_weight_bytes(), 2 * (32LL * 218'112'000 + 2LL * 128'256 * 4096 + 4096));
  // DESIGN.md's sanity figure: 2 * 32 * 8 * 128 * 2 bytes of KV per token.
  EXPECT_EQ(m.kv_bytes_per_token(), 131'072);
  EXPECT_EQ(m.kv_bytes_per_token_per_layer_per_gpu(2), 131'072 / 32 / 2);
  EXPECT_EQ(m.kv_heads_per_gpu(16), 1) << "KV heads replicate past tp = kv_heads";
}

TEST(ModelSpec, CatalogueHasTheModelsScenariosName) {
  for (const char* n : {"llama-2-7b", "llama-3-8b", "llama-3-70b", "qwen2.5-14b", "qwen2.5-72b"})
    EXPECT_NO_THROW(find_model(n, "model")) << n;
  try {
    find_model("gpt-5", "model");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model: unknown model \"gpt-5\" (known: "), std::string::npos);
  }
}

TEST(MemoryPlan, KvGetsWhatWeightsAndWorkspaceLeave) {
  const ModelSpec& m = find_model("llama-3-8b", "model");
  EngineParams e;
  const std::int64_t gpu = 80'000'000'000;
  const MemoryPlan p = make_memory_plan(m, e, gpu, "deployment");
  EXPECT_EQ(p.usable_bytes, 72'000'000'000);
  EXPECT_EQ(p.kv_bytes, p.usable_bytes - p.weight_bytes - p.workspace_bytes - p.reserve_bytes);
  EXPECT_EQ(p.block_bytes, 16 * 131'072);
  EXPECT_EQ(p.num_blocks, p.kv_bytes / p.block_bytes);
  EXPECT_GT(p.num_blocks, 20000);
  // TP2 halves weights and per-GPU KV per block: more tokens fit per instance.
  e.tp = 2;
  const MemoryPlan p2 = make_memory_plan(m, e, gpu, "deployment");
  EXPECT_EQ(p2.block_bytes, p.block_bytes / 2);
  EXPECT_GT(p2.num_blocks, 2 * p.num_blocks);
}

TEST(MemoryPlan, ImpossibleDeploymentSaysHowManyGiB) {
  const ModelSpec& m = find_model("llama-3-70b", "model");
  EngineParams e;  // tp 1: 131 GiB of weights on an 80 GB GPU
  try {
    make_memory_plan(m, e, 80'000'000'000, "deployment");
    FAIL();
  } catch (const InputError& err) {
    const std::string w = err.what();
    EXPECT_NE(w.find("deployment: llama-3-70b with tp=1 does not fit: needs 1"), std::string::npos) << w;
    EXPECT_NE(w.find("GiB are usable"), std::string::npos) << w;
  }
  e.tp = 4;
  EXPECT_NO_THROW(make_memory_plan(m, e, 80'000'000'000, "deployment"));
}

}  // namespace
}  // namespace kunsim
