// Inter-token latency: the histogram's exact moments and 0.1% percentiles, and a decode that
// waits behind a prefill chunk showing as one long gap.
#include <gtest/gtest.h>

#include "sim/cost/cost_choice.hpp"
#include "sim/metrics/token_gaps.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

TEST(TokenGaps, RunsGiveExactMomentsAndPercentilesWithinATenthOfAPercent) {
  TokenGapHistogram h;
  // 2 requests x 100 steps of 10 ms + 0.01 ms * i (a jump whose contexts grow), then one
  // 50 ms stall for 3 requests.
  h.add({10e6, 1e4, 100, 2});
  h.add({50e6, 0, 1, 3});
  const DistributionSummary d = h.summary();
  EXPECT_EQ(h.count(), 203);
  double sum = 0, sq = 0;
  std::vector<double> all;
  for (int i = 0; i < 100; ++i)
    for (int c = 0; c < 2; ++c) all.push_back(10e6 + 1e4 * i);
  for (int c = 0; c < 3; ++c) all.push_back(50e6);
  for (double x : all) sum += x, sq += x * x;
  const double mean = sum / 203;
  EXPECT_NEAR(d.mean, mean * 1e-9, 1e-15);
  EXPECT_NEAR(d.std, std::sqrt(sq / 203 - mean * mean) * 1e-9, 1e-12);
  EXPECT_DOUBLE_EQ(d.min, 10e6 * 1e-9);
  EXPECT_DOUBLE_EQ(d.max, 50e6 * 1e-9);
  std::sort(all.begin(), all.end());
  EXPECT_NEAR(d.p50, all[101] * 1e-9, all[101] * 1e-9 * 1e-3);  // rank ceil(0.5 * 203) = 102
  EXPECT_NEAR(d.p99, 50e6 * 1e-9, 50e6 * 1e-9 * 1e-3);          // the stall
}

TEST(TokenGaps, ADecodeWaitingBehindAPrefillChunkIsOneLongGap) {
  const auto dir = test::scratch("itl-stall");
  // A decodes alone; B's 6,000-token prompt arrives at 0.1 s and is prefilled in one chunk in
  // the same iteration as A's next decode step.
  test::write_file(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,40\n0.1,6000,2\n");
  Json j = Json::parse(R"({"name": "stall", "model": "llama-3.1-8b",
    "cluster": {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 1},
    "deployment": {"instances": 1, "tp": 1, "frontend_s": 0},
    "policy": {"name": "vllm"}})");
  j["workload"] = {{"trace", {{"format", "vidur"}, {"path", (dir / "t.csv").string()}}}};
  const Scenario sc = scenario_from_json(j, TracePaths{});
  std::filesystem::create_directories(dir / "out");
  const Json s = test::run_scenario(j, dir / "out");
  // The mixed iteration as the cost model prices it: the 6,000-token chunk plus A's decode.
  const auto cost = make_cost_model(sc.cost_model, sc.profile.get(), sc.model, sc.cluster, 1, sc.cost);
  BatchShape mixed;
  mixed.prefills = {{6000, 0}};
  mixed.num_decodes = 1;
  mixed.decode_context_sum = 115;
  mixed.layers = sc.model.layers;
  mixed.sampled = 2;
  const double stall = cost->iteration(mixed).sum();
  BatchShape alone;
  alone.num_decodes = 1;
  alone.decode_context_sum = 115;
  alone.layers = sc.model.layers;
  alone.sampled = 1;
  const double step = cost->iteration(alone).sum();
  ASSERT_GT(stall, 5 * step);
  EXPECT_NEAR(s["itl_s"]["max"].get<double>(), stall, stall * 0.01);
  EXPECT_NEAR(s["itl_s"]["p50"].get<double>(), step, step * 0.02);
  // TPOT averages the stall away; the ITL distribution keeps it.
  EXPECT_LT(s["tpot_s"]["max"].get<double>(), 2 * step);
  const Json b = Json::parse(test::read_file(dir / "out" / "vllm-bench.json"));
  EXPECT_NEAR(b["p99_itl_ms"].get<double>(), s["itl_s"]["p99"].get<double>() * 1e3, 1e-3);
  EXPECT_TRUE(b.contains("mean_itl_ms"));
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

// Every request's gaps add up to its decode time (finish - first token), whatever preempted,
// swapped, migrated or fused it on the way: the mean ITL is the token-weighted TPOT.
TEST(TokenGaps, GapsAddUpToEveryRequestsDecodeTimeUnderEveryPolicy) {
  for (const char* policy : {"vllm", "vllm-swap", "llumnix", "kunserve"}) {
    const auto dir = test::scratch(std::string("itl-") + policy);
    Json j = parse_json_file(std::string(KUNSIM_SOURCE_DIR) + "/scenarios/preempt.json");
    j["policy"] = {{"name", policy}};
    const Json s = test::run_scenario(j, dir);
    ASSERT_EQ(s["requests"]["unfinished"], 0);
    std::istringstream csv(test::read_file(dir / "requests.csv"));
    std::string line;
    std::getline(csv, line);
    double weighted = 0, tokens = 0;
    while (std::getline(csv, line)) {
      std::vector<std::string> f;
      std::stringstream ls(line);
      for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
      if (f[6] != "finished" || std::stoi(f[4]) < 2) continue;
      weighted += std::stod(f[9]) * (std::stoi(f[4]) - 1);
      tokens += std::stoi(f[4]) - 1;
    }
    EXPECT_NEAR(s["itl_s"]["mean"].get<double>(), weighted / tokens, weighted / tokens * 1e-5) << policy;
  }
}

}  // namespace
}  // namespace kunsim
