// MoE and fp8 models in whole scenarios: Mixtral TP2 priced from the measured MoE table (its price
// at a measured point is the table's), KunServe's drop freeing hand-checked blocks on a TP MoE
// instance, and the pairings kunsim does not price refused with exit 2 and the key to change.
#include <gtest/gtest.h>

#include <sstream>

#include "sim/cost/kernel_table_interp.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

Json mixtral_tp2() {
  Json s = test::tiny_cluster_scenario();
  s["model"] = "mixtral-8x7b";
  s["deployment"] = {{"instances", 2}, {"tp", 2}};
  return s;
}

TEST(MoeRun, TheMixtralTp2CommandRunsOnH100) {
  const auto r =
      test::cli("run --set model=mixtral-8x7b --set deployment.tp=2 --out " + test::scratch("moe-cli").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("MoE experts 8x14336 top-2 h4096 bf16 tp2 ep1 power_law_1.01"), std::string::npos)
      << r.output;
}

TEST(MoeRun, TheMoeLayerAtAMeasuredPointIsTheTablesTime) {
  const Scenario sc = scenario_from_json(mixtral_tp2(), TracePaths{});
  ASSERT_TRUE(sc.profile && sc.profile->kernel_index) << sc.cost_source;
  const auto model = make_group_cost_model(sc.deployment.groups[0], sc.model);
  // The committed table's rows for this configuration (power_law_1.01, the default routing).
  std::istringstream rows(sc.profile->kernels.optional->at("moe.csv"));
  std::map<int, double> measured;
  for (std::string line; std::getline(rows, line);)
    if (line.rfind("bf16,4096,14336,2,8,2,1,power_law_1.01,", 0) == 0) {
      const auto tokens_at = line.find(',', 39);
      measured[std::stoi(line.substr(39, tokens_at - 39))] = std::stod(line.substr(tokens_at + 1)) * 1e-6;
    }
  ASSERT_EQ(measured.size(), 27u);
  const RooflineCostModel roofline(sc.model, sc.cluster.gpu, sc.cluster.nvlink, 2, sc.cost);
  const GemmCurve router = sc.profile->kernel_index->gemm.curve(8, 4096);
  for (const int tokens : {64, 4096}) {  // points on the curve (not pooled by its monotone fit)
    BatchShape s;
    s.num_decodes = tokens;
    s.decode_context_sum = 100LL * tokens;
    s.layers = 1;
    const IterationCost c = model->iteration(s);
    const double experts = c.mlp - router.at(tokens) - roofline.elementwise_layer(tokens);
    EXPECT_NEAR(experts, measured[tokens], 1e-12) << tokens << " tokens";
  }
}

TEST(MoeRun, KunserveDropOnMixtralTp2FreesTheBlocksOfHalfItsLayers) {
  Json j = mixtral_tp2();
  j["policy"] = {{"name", "kunserve"}};
  j["workload"] = Json::parse(R"({"synthetic": {"rate": 12, "duration_s": 30,
      "input_tokens": {"type": "fixed", "value": 8000}, "output_tokens": {"type": "fixed", "value": 1500}}})");
  const auto out = test::scratch("moe-kunserve");
  const Json summary = test::run_scenario(j, out);
  EXPECT_EQ(summary["requests"]["completed"], summary["requests"]["arrived"]);
  // One GPU of a member that keeps 16 of 32 layers frees 16 layers: half of each layer's
  // attention and norms (83,902,464 B), the router whole (65,536 B) and half of its experts
  // (1,409,286,144 B): 16 x 1,451,302,912 B. A block is 16 tokens x 32 layers x 4 KV heads x
  // 128 x K, V x 2 B = 1,048,576 B: 22,145 blocks.
  std::ifstream log(out / "decisions.jsonl");
  int drops = 0;
  for (std::string line; std::getline(log, line);) {
    const Json d = Json::parse(line);
    if (d["kind"] != "drop" || !d.contains("freed_blocks")) continue;
    ++drops;
    EXPECT_EQ(d["freed_blocks"], Json::array({22145, 22145})) << line;
  }
  EXPECT_GT(drops, 0) << "the burst must overload the KV cache";
}

// Every policy, a prefill/decode fleet and prefix caching on an MoE model with an fp8 KV cache:
// requests conserved, KV never over capacity.
TEST(MoeRun, EveryMechanismServesAnMoeModelWithFp8Kv) {
  Json base = mixtral_tp2();
  base["deployment"]["kv_cache_dtype"] = "fp8";
  base["workload"] = Json::parse(R"({"synthetic": {"rate": 40, "duration_s": 20,
      "input_tokens": {"type": "uniform", "min": 2000, "max_value": 12000},
      "output_tokens": {"type": "uniform", "min": 100, "max_value": 1500}},
      "sharing": {"system_prompt_tokens": 1024}})");
  auto check = [](const Json& summary, const std::string& what) {
    EXPECT_EQ(summary["requests"]["completed"], summary["requests"]["arrived"]) << what;
    EXPECT_LE(summary["memory"]["peak_kv_usage"].get<double>(), 1.0) << what;
  };
  int overloaded = 0;
  for (const char* policy : {"vllm", "vllm-swap", "infercept", "llumnix", "kunserve"}) {
    Json j = base;
    j["policy"] = {{"name", policy}};
    const Json summary = test::run_scenario(j);
    check(summary, policy);
    const Json& planner = summary["planner"];
    overloaded += planner["preemptions"].get<int>() + planner["drops"].get<int>() + planner["migrations"].get<int>();
  }
  EXPECT_GT(overloaded, 0) << "the load must overload some policy's KV cache";
  Json prefix = base;
  prefix["deployment"]["enable_prefix_caching"] = true;
  check(test::run_scenario(prefix), "prefix caching");
  Json fleet = base;
  fleet["deployment"] = Json::parse(R"({"kv_cache_dtype": "fp8", "groups": [
      {"name": "p", "count": 1, "tp": 2, "role": "prefill"}, {"name": "d", "count": 1, "tp": 2, "role": "decode"}]})");
  check(test::run_scenario(fleet), "prefill/decode");
}

TEST(MoeRun, PairingsKunsimDoesNotPriceAreRefused) {
  const std::string tiny = "run --set cluster.nodes=1 --set cluster.gpus_per_node=8 --set workload.max_requests=1 ";
  test::expect_bad_input(test::cli(tiny + "--set 'model={\"name\":\"m\",\"layers\":2,\"hidden\":64,\"heads\":2,"
                                          "\"ffn\":128,\"dtype_bytes\":1}'"),
                         "model.dtype_bytes: 1 is not priced: name the formats instead, model.weight_dtype");
  test::expect_bad_input(test::cli(tiny + "--set cluster.gpu=a100-80g --set deployment.weight_dtype=fp8"),
                         "a100-80g has no fp8 tensor cores");
  test::expect_bad_input(test::cli(tiny + "--set cluster.gpu=a100-80g --set deployment.kv_cache_dtype=fp8"),
                         "kunsim does not price fp8 KV (deployment.kv_cache_dtype) there");
  test::expect_bad_input(test::cli(tiny + "--set deployment.expert_parallel=true"),
                         "deployment.expert_parallel: llama-3.1-8b has no experts to deal out");
  test::expect_bad_input(test::cli(tiny + "--set model=mixtral-8x7b --set deployment.tp=8 "
                                          "--set deployment.instances=1 --set deployment.weight_dtype=fp8_block "
                                          "--set model=qwen3-30b-a3b"),
                         "deployment.tp: fp8_block experts split 8 ways are 96 wide");
  test::expect_bad_input(test::cli(tiny + "--set model=mixtral-8x7b --set deployment.tp=2 --set deployment.instances=2 "
                                          "--set deployment.expert_parallel=true --set policy.name=kunserve"),
                         "expert-parallel instances (deployment.expert_parallel) are not modelled");
  test::expect_bad_input(test::cli(tiny + "--set deployment.kv_cache_dtype=fp4"), "deployment.kv_cache_dtype");
}

}  // namespace
}  // namespace kunsim
