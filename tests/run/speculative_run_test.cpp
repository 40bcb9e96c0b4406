// Speculative decoding in whole runs: the decode jump gives the outputs stepping gives, requests
// are conserved and KV stays within capacity under preemption, TPOT falls where drafts are
// accepted and rises where they are not, and the pairings kunsim does not model are refused.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace kunsim {
namespace {

Json speculative_scenario(const std::string& method, int k, double alpha) {
  Json s = test::tiny_cluster_scenario();
  s["workload"]["max_requests"] = 300;
  s["deployment"]["speculative"] = {{"method", method}, {"num_tokens", k}, {"acceptance", alpha}};
  return s;
}

// The run's files and its summary, less what depends on how it was simulated (events, wall time).
struct RunText {
  std::vector<std::pair<std::string, std::string>> files;
  Json summary;
};
RunText run_in_memory(const Json& j, bool step_through_jumps) {
  Scenario sc = scenario_from_json(j, TracePaths{});
  for (DeploymentGroup& g : sc.deployment.groups) g.engine.step_through_jumps = step_through_jumps;
  Simulation sim(sc, RunOptions{.wall_clock = false, .in_memory = true});
  RunText out;
  out.summary = sim.run();
  out.summary.erase("sim");
  out.files = sim.outputs();
  return out;
}

TEST(SpeculativeRun, TheJumpGivesWhatSteppingGives) {
  for (const auto& [method, k, alpha] :
       {std::tuple{"eagle", 3, 0.7}, std::tuple{"ngram", 2, 0.5}, std::tuple{"eagle", 0, 0.0}}) {
    Json j = speculative_scenario(method, k, alpha);
    j["workload"]["synthetic"]["rate"] = 60;  // enough load to preempt and to cut jumps by arrivals
    RunText jumped = run_in_memory(j, false), stepped = run_in_memory(j, true);
    ASSERT_EQ(jumped.files.size(), stepped.files.size());
    for (std::size_t i = 0; i < jumped.files.size(); ++i) {
      EXPECT_EQ(jumped.files[i].first, stepped.files[i].first);
      EXPECT_TRUE(jumped.files[i].second == stepped.files[i].second)
          << method << " k " << k << ": " << jumped.files[i].first << " differs";
    }
    // A jump reports its inter-token gaps as one record of steps first + slope x i nanoseconds
    // (DecodeRun, in floating point); stepping reports each step's whole nanoseconds. The gap
    // statistics may differ by that rounding, a nanosecond, and nothing else does.
    for (const auto& [stat, v] : jumped.summary["itl_s"].items())
      EXPECT_NEAR(v.get<double>(), stepped.summary["itl_s"][stat].get<double>(), 1.5e-9) << stat;
    jumped.summary.erase("itl_s");
    stepped.summary.erase("itl_s");
    EXPECT_EQ(jumped.summary.dump(2), stepped.summary.dump(2)) << method << " k " << k;
  }
}

TEST(SpeculativeRun, RequestsAreConservedAndKvStaysWithinCapacityUnderPreemption) {
  Json j = speculative_scenario("eagle", 4, 0.8);
  j["workload"]["synthetic"]["rate"] = 200;
  j["workload"]["max_requests"] = 2000;
  j["deployment"]["gpu_memory_utilization"] = 0.3;  // a small KV pool: preemptions
  const Json s = test::run_scenario(j);
  EXPECT_GT(s["planner"]["preemptions"].get<int>(), 0) << "the run should have preempted";
  EXPECT_EQ(s["requests"]["arrived"], 2000);
  EXPECT_EQ(s["requests"]["completed"], 2000);
  for (const auto& i : s["instances"])
    EXPECT_LE(i["peak_kv_blocks"].get<std::int64_t>(), i["kv_capacity"].get<std::int64_t>());
  // The clock emitted the formula's tokens a step: 1 + 0.8 + ... + 0.8^4 = 3.3616.
  EXPECT_NEAR(s["speculative"]["tokens_per_step"].get<double>(), 3.3616, 0.01);
  EXPECT_EQ(s["speculative"]["expected_tokens_per_step"].get<double>(), 3.3616);
}

TEST(SpeculativeRun, TpotFallsWhereDraftsAreAcceptedAndRisesWhereNot) {
  auto tpot = [](int k, double alpha) {
    Json j = speculative_scenario("eagle", k, alpha);
    j["workload"]["synthetic"]["rate"] = 4;
    return test::run_scenario(j)["tpot_s"]["mean"].get<double>();
  };
  const double plain = tpot(0, 0.0);
  EXPECT_LT(tpot(2, 0.8), 0.7 * plain) << "2.44 tokens a step for one step and a bit";
  EXPECT_LT(tpot(4, 0.8), tpot(2, 0.8));
  EXPECT_GT(tpot(2, 0.0), plain) << "nothing accepted: the same tokens at a dearer step";
}

TEST(SpeculativeRun, AWorkloadAcceptanceOverridesTheDeployments) {
  Json j = speculative_scenario("eagle", 3, 0.9);
  j["workload"]["speculative_acceptance"] = 0.5;
  const Json s = test::run_scenario(j);
  EXPECT_NEAR(s["speculative"]["tokens_per_step"].get<double>(), 1.875, 0.01);
  EXPECT_EQ(s["speculative"]["workload_acceptance"].get<double>(), 0.5);
}

TEST(SpeculativeRun, DraftWeightsAndKvTakeMemory) {
  Json base = speculative_scenario("eagle", 0, 0.0);
  base["model"] = "llama-3.1-70b";
  base["cluster"] = {{"gpu", "h100-sxm"}, {"nodes", 1}, {"gpus_per_node", 4}};
  base["deployment"]["tp"] = 4;
  base["deployment"]["instances"] = 1;
  Json draft = base;
  draft["deployment"]["speculative"] = {
      {"method", "draft_model"}, {"num_tokens", 3}, {"acceptance", 0.7}, {"draft_model", "llama-3.1-8b"}};
  const Scenario a = scenario_from_json(base, TracePaths{}), b = scenario_from_json(draft, TracePaths{});
  // The 8B draft's 16 GB over 4 GPUs, and its 32 layers of KV beside the 70B's 80 in each block.
  EXPECT_EQ(b.memory.weight_bytes - a.memory.weight_bytes,
            (find_model("llama-3.1-8b", "m").total_weight_bytes() + 3) / 4);
  EXPECT_EQ(b.memory.block_bytes * 80, a.memory.block_bytes * (80 + 32));
  EXPECT_LT(b.memory.num_blocks, a.memory.num_blocks);
}

TEST(SpeculativeRun, DisaggregatedDecodeInstancesSpeculate) {
  Json j = speculative_scenario("eagle", 2, 0.8);
  j["deployment"] = Json::parse(R"({"groups": [{"name": "p", "role": "prefill", "count": 2},
                                              {"name": "d", "role": "decode", "count": 2}]})");
  j["deployment"]["speculative"] = {{"method", "eagle"}, {"num_tokens", 2}, {"acceptance", 0.8}};
  const Json s = test::run_scenario(j);
  EXPECT_EQ(s["requests"]["completed"], s["requests"]["arrived"]);
  EXPECT_NEAR(s["speculative"]["tokens_per_step"].get<double>(), 2.44, 0.01);
}

void expect_refused(const Json& j, const std::string& message) {
  try {
    scenario_from_json(j, TracePaths{});
    ADD_FAILURE() << "accepted; expected: " << message;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
  }
}

TEST(SpeculativeRun, PairingsNotModelledAreRefusedNamingTheKey) {
  Json ks = speculative_scenario("eagle", 2, 0.8);
  ks["policy"] = {{"name", "kunserve"}};
  expect_refused(ks, "policy.name: kunserve's pipelines are not modelled with speculative decoding");
  expect_refused(speculative_scenario("mtp", 2, 0.8), "deployment.speculative.method: mtp drafts with the model's");
  Json no_alpha = speculative_scenario("eagle", 2, 0.8);
  no_alpha["deployment"]["speculative"].erase("acceptance");
  expect_refused(no_alpha, "deployment.speculative.acceptance: required");
  Json vocab = speculative_scenario("draft_model", 2, 0.8);
  vocab["model"] = "llama-3.1-70b";
  vocab["deployment"]["tp"] = 2;
  vocab["deployment"]["instances"] = 2;
  vocab["deployment"]["speculative"]["draft_model"] = "qwen3-8b";
  expect_refused(vocab, "deployment.speculative.draft_model: qwen3-8b's vocabulary");
  Json positions = speculative_scenario("eagle", 3, 0.8);
  positions["deployment"]["speculative"].erase("acceptance");
  positions["deployment"]["speculative"]["acceptance_by_position"] = {0.8, 0.6};
  expect_refused(positions, "acceptance_by_position: 2 positions for num_tokens 3");
  positions["deployment"]["speculative"]["acceptance_by_position"] = {0.6, 0.8, 0.5};
  expect_refused(positions, "acceptance_by_position[1]");
}

}  // namespace
}  // namespace kunsim
