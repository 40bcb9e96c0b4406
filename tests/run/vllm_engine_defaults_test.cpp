// The scheduler limits a deployment takes where the scenario leaves them unset: vLLM's API-server
// defaults for the group's GPU (sim/model/vllm_engine_defaults.hpp).
#include "sim/model/vllm_engine_defaults.hpp"

#include <gtest/gtest.h>

#include "run/scenario.hpp"
#include "sim/core/input_error.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

Json on(const std::string& gpu) {
  Json j = test::tiny_cluster_scenario();
  j["cluster"]["gpu"] = gpu;
  return j;
}

std::pair<int, int> limits(const Json& j, std::size_t group = 0) {
  const Scenario s = scenario_from_json(j, {});
  const EngineParams& e = s.deployment.groups.at(group).engine;
  return {e.max_num_seqs, e.max_num_batched_tokens};
}

TEST(VllmEngineDefaults, FollowTheGpuAsVllmsApiServerDoes) {
  EXPECT_EQ(limits(on("h100-sxm")), (std::pair{1024, 8192}));
  EXPECT_EQ(limits(on("h200")), (std::pair{1024, 8192}));
  EXPECT_EQ(limits(on("b200")), (std::pair{1024, 8192}));     // vLLM 0.24's tiers: no 160 GiB one
  EXPECT_EQ(limits(on("a100-80g")), (std::pair{256, 2048}));  // 80 GB, but an A100
  Json small = on("h100-sxm");
  small["cluster"]["gpu_memory_gib"] = 48;  // under 70 GiB
  small["deployment"]["gpu_memory_utilization"] = 0.95;
  EXPECT_EQ(limits(small), (std::pair{256, 2048}));
}

TEST(VllmEngineDefaults, ASetLimitIsKeptAndOnlyTheOtherDefaults) {
  Json j = on("a100-80g");
  j["deployment"]["max_num_seqs"] = 128;
  EXPECT_EQ(limits(j), (std::pair{128, 2048}));
  j["deployment"]["max_num_batched_tokens"] = 16384;
  EXPECT_EQ(limits(j), (std::pair{128, 16384}));
  // A group on another GPU takes that GPU's default for what neither it nor the deployment set.
  Json fleet = test::tiny_cluster_scenario();
  fleet["cluster"] = Json::parse(R"({"node_groups": [{"gpu": "a100-80g", "nodes": 1, "gpus_per_node": 2},
                                                     {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 2}]})");
  fleet["deployment"] = Json::parse(R"({"max_num_seqs": 200, "groups": [{"name": "a", "gpu": "a100-80g", "count": 2},
                                                                       {"name": "h", "gpu": "h100-sxm", "count": 2}]})");
  EXPECT_EQ(limits(fleet, 0), (std::pair{200, 2048}));
  EXPECT_EQ(limits(fleet, 1), (std::pair{200, 8192}));
}

TEST(VllmEngineDefaults, ADefaultBudgetUnderTheSetSequencesIsRefusedAsVllmDoes) {
  Json j = on("a100-80g");
  j["deployment"]["max_num_seqs"] = 4096;
  try {
    limits(j);
    FAIL() << "accepted 4096 sequences with a 2048-token budget";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("deployment.max_num_batched_tokens: 2048 (vLLM's default on a100-80g)"),
              std::string::npos)
        << e.what();
  }
}

TEST(VllmEngineDefaults, TiersByReleaseAndMemory) {
  constexpr std::int64_t GiB = 1024LL * 1024 * 1024;
  const std::int64_t b200 = static_cast<std::int64_t>(178.35 * GiB);
  EXPECT_EQ(vllm_api_server_limits(b200, false, "0.27.1").max_num_batched_tokens, 8192);
  EXPECT_EQ(vllm_api_server_limits(b200, false, "0.28.0").max_num_batched_tokens, 16384);
  EXPECT_EQ(vllm_api_server_limits(b200, false, "1.0").max_num_batched_tokens, 16384);
  EXPECT_EQ(vllm_api_server_limits(70 * GiB, false, "0.24.0").max_num_seqs, 1024);
  EXPECT_EQ(vllm_api_server_limits(70 * GiB - 1, false, "0.24.0").max_num_seqs, 256);
  EXPECT_EQ(vllm_api_server_limits(80 * GiB, true, "0.28.0").max_num_batched_tokens, 2048);
  EXPECT_EQ(vllm_api_server_limits(80 * GiB, false, "unknown").max_num_batched_tokens, 8192);  // the modelled 0.24
}

}  // namespace
}  // namespace kunsim
