#include "sim/model/memory_plan.hpp"

#include <gtest/gtest.h>

#include "sim/cluster/gpu_spec.hpp"

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

// vLLM V1's profiling log for Llama-3.1-8B on an H100 80GB HBM3 at the defaults: "total_gpu_memory
// (79.11GiB) x gpu_memory_utilization (0.90) = 71.20GiB; model weights take 14.99GiB;
// non_torch_memory takes 0.35GiB; PyTorch activation peak memory takes 1.24GiB; the rest of the
// memory reserved for KV Cache is 54.62GiB". kunsim's plan on the h100-sxm kind comes within 1%.
TEST(MemoryPlan, KvOnAnH100IsWhatVllmLogsForLlama8b) {
  const ModelSpec& m = find_model("llama-3.1-8b", "model");
  EngineParams e;
  e.max_num_seqs = 1024;  // vLLM's default there (its sampler's dummy batch)
  const std::int64_t gpu = find_gpu("h100-sxm", "gpu").memory_bytes;
  EXPECT_NEAR(static_cast<double>(gpu) / kGiB, 79.11, 0.005);
  const MemoryPlan p = make_memory_plan(m, e, gpu, "deployment");
  EXPECT_NEAR(static_cast<double>(p.kv_bytes) / kGiB, 54.62, 0.01 * 54.62);
}

TEST(MemoryPlan, AnEngineThatCannotHoldOneLongestRequestIsRefusedAsVllmRefusesIt) {
  const ModelSpec& m = find_model("llama-3.1-70b", "model");
  EngineParams e;
  e.tp = 2;
  e.max_model_len = m.max_model_len;  // 131072: about 23k tokens of KV is left on two H100s
  const std::int64_t gpu = find_gpu("h100-sxm", "gpu").memory_bytes;
  try {
    make_memory_plan(m, e, gpu, "deployment");
    FAIL();
  } catch (const InputError& err) {
    const std::string w = err.what();
    EXPECT_NE(w.find("deployment: llama-3.1-70b with tp=2 does not fit a request of max_model_len 131072"),
              std::string::npos)
        << w;
  }
  e.max_model_len = 16384;  // as `vllm serve --max-model-len 16384` starts it
  const MemoryPlan p = make_memory_plan(m, e, gpu, "deployment");
  EXPECT_GE(p.num_blocks * e.block_size, 16384);
}

}  // namespace
}  // namespace kunsim
