// DeepSeek-V3 in whole scenarios: its attention priced from vLLM's measured MLA module (the price
// at a measured point is the table's, projections included), and bf16 refused on 8 H200s.
#include <gtest/gtest.h>

#include <sstream>

#include "test_support.hpp"

namespace kunsim {
namespace {

Json deepseek_v3_h200() {
  Json s = test::tiny_cluster_scenario();
  s["model"] = "deepseek-v3";
  s["cluster"] = {{"gpu", "h200"}, {"nodes", 1}, {"gpus_per_node", 8}};
  s["deployment"] = {{"instances", 1}, {"tp", 8}, {"expert_parallel", true}};
  return s;
}

// The committed table's time (seconds) of the row starting with `key`.
double measured(const Scenario& sc, const char* file, const std::string& key) {
  std::istringstream rows(sc.profile->kernels.optional->at(file));
  for (std::string line; std::getline(rows, line);)
    if (line.rfind(key, 0) == 0) return std::stod(line.substr(key.size())) * 1e-6;
  ADD_FAILURE() << file << " has no row " << key;
  return 0;
}

TEST(MlaRun, TheModuleAtAMeasuredPointIsTheTablesTime) {
  const Scenario sc = scenario_from_json(deepseek_v3_h200(), TracePaths{});
  ASSERT_TRUE(sc.profile && sc.profile->kernel_index) << sc.cost_source;
  EXPECT_NE(sc.cost_source.find("MLA module h7168 q1536 kv512+64 fp8_block GEMMs, bf16 KV, 16 heads"),
            std::string::npos)
      << sc.cost_source;
  EXPECT_NE(sc.cost_source.find("MoE experts 256x2048 top-8 h7168 fp8_block tp1 ep8"), std::string::npos)
      << sc.cost_source;
  const auto model = make_group_cost_model(sc.deployment.groups[0], sc.model);
  const std::string shape = "module,7168,1536,512,128,64,128,fp8_block,bf16,16,";
  // 64 decodes, each attending to 1024 cached tokens and itself (step 1024 in the table).
  BatchShape d;
  d.num_decodes = 64;
  d.decode_context_sum = 64LL * 1025;
  d.layers = 1;
  const IterationCost dc = model->iteration(d);
  EXPECT_EQ(dc.qkv, 0);  // the module's time holds its projections
  EXPECT_EQ(dc.o_proj, 0);
  EXPECT_NEAR(dc.attn_decode, measured(sc, "mla_generation.csv", shape + "64,1025,"), 1e-12);
  // 32 decodes verifying one draft each: vLLM's MLA decode path takes both queries of each, the
  // generation module at 64 rows (not a context module at the chunk's equal-work length, which
  // would run its projections for 64 tokens a request).
  BatchShape v = d;
  v.num_decodes = 32;
  v.decode_queries = 2;
  v.decode_context_sum = 32LL * 1025;
  EXPECT_NEAR(model->iteration(v).attn_decode, measured(sc, "mla_generation.csv", shape + "64,1025,"), 1e-12);
  // One 4096-token prompt.
  BatchShape p;
  p.prefills = {{4096, 0}};
  p.layers = 1;
  EXPECT_NEAR(model->iteration(p).attn_prefill, measured(sc, "mla_context.csv", shape + "1,4096,"), 1e-12);
}

TEST(MlaRun, DeepSeekV3RunsOnEightH200sAndBf16DoesNotFit) {
  const std::string scenario = std::string(KUNSIM_SOURCE_DIR) + "/scenarios/moe/deepseek-v3-h200.json";
  auto r = test::cli("run " + scenario + " --out " + test::scratch("dsv3").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("MLA module"), std::string::npos) << r.output;
  r = test::cli("run " + scenario + " --set deployment.weight_dtype=bf16 --out " + test::scratch("dsv3-bf16").string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find("deepseek-v3 with tp=8 does not fit"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace kunsim
