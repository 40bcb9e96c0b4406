// Replaying real vllm bench serve runs: the printed block read under vLLM's keys, the command
// lines turned into a scenario with vLLM's defaults written out, a record whose answer is worked
// by hand, what is refused, and the committed manifest's MAPE not regressing.
#include "whatif/replay_bench.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "run/simulation.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

TEST(ReplayBench, ThePrintedBlockReadsUnderVllmsKeys) {
  const auto m = parse_bench_block(R"(============ Serving Benchmark Result ============
    Successful requests:                     500
    Benchmark duration (s):                  227.57
    Total generated tokens:                  99803
    Output token throughput (tok/s):         438.56
    Peak output token throughput (tok/s):    1536.00
    Mean TTFT (ms):                          112716.92
    P99 TPOT (ms):                           161.93
    Median ITL (ms):                         43.93
)");
  EXPECT_DOUBLE_EQ(m.at("completed"), 500);
  EXPECT_DOUBLE_EQ(m.at("duration"), 227.57);
  EXPECT_DOUBLE_EQ(m.at("total_output_tokens"), 99803);
  EXPECT_DOUBLE_EQ(m.at("output_throughput"), 438.56);
  EXPECT_DOUBLE_EQ(m.at("mean_ttft_ms"), 112716.92);
  EXPECT_DOUBLE_EQ(m.at("p99_tpot_ms"), 161.93);
  EXPECT_DOUBLE_EQ(m.at("median_itl_ms"), 43.93);
  EXPECT_EQ(m.size(), 7u) << "the peak is never compared";
}

BenchRecord small_record() {
  BenchRecord r;
  r.id = "hand";
  r.gpu = "h100-sxm";
  r.serve = "vllm serve Qwen/Qwen3-8B -tp 2 --max-num-seqs 64 --port 8000";
  r.bench =
      "vllm bench serve --model Qwen/Qwen3-8B --dataset-name random --random-input-len 1000 \\\n"
      "  --random-output-len 100 --num-prompts 20 --max-concurrency 2 --seed 3";
  // Answers stopped at EOS: 1,800 tokens for 20 requests, 90 each.
  r.measured = {{"completed", 20}, {"total_output_tokens", 1800}, {"total_input_tokens", 20000}};
  return r;
}

TEST(ReplayBench, CommandLinesBecomeAScenarioWithVllmsDefaults) {
  const Json s = scenario_of_record(small_record());
  EXPECT_EQ(s["model"], "qwen3-8b");
  EXPECT_EQ(s["deployment"]["tp"], 2);
  EXPECT_EQ(s["deployment"]["max_num_seqs"], 64);
  EXPECT_EQ(s["deployment"]["max_num_batched_tokens"], 8192) << "vLLM V1's default on an 80 GB H100";
  EXPECT_DOUBLE_EQ(s["deployment"]["gpu_memory_utilization"].get<double>(), 0.9);
  EXPECT_EQ(s["deployment"]["enable_prefix_caching"], true);
  EXPECT_EQ(s["workload"]["synthetic"]["rate"], "inf");
  EXPECT_EQ(s["workload"]["synthetic"]["input_tokens"], 1000);
  EXPECT_EQ(s["workload"]["synthetic"]["output_tokens"], 90) << "the record's totals, not the asked 100";
  EXPECT_EQ(s["workload"]["max_requests"], 20);
  EXPECT_EQ(s["workload"]["max_concurrency"], 2);
  EXPECT_EQ(s["seed"], 3);
  BenchRecord a100 = small_record();
  a100.gpu = "a100-80g";
  a100.serve = "vllm serve Qwen/Qwen3-8B";
  const Json t = scenario_of_record(a100);
  EXPECT_EQ(t["deployment"]["max_num_seqs"], 256);
  EXPECT_EQ(t["deployment"]["max_num_batched_tokens"], 2048);
}

// Real figures 1.25x kunsim's own: every error is (x - 1.25x) / 1.25x = -20%, and so is the MAPE.
TEST(ReplayBench, AHandWorkedRecordHasItsErrors) {
  BenchRecord r = small_record();
  const Json first = replay_record(r);
  ASSERT_TRUE(first["real"].empty()) << "no figure to compare yet";
  Json mine;
  {
    r.measured["duration"] = 1;  // any figure, to see kunsim's
    r.measured["mean_tpot_ms"] = 1;
    r.measured["p99_ttft_ms"] = 1;
    mine = replay_record(r)["kunsim"];
  }
  for (auto it = mine.begin(); it != mine.end(); ++it) r.measured[it.key()] = it.value().get<double>() * 1.25;
  const Json res = replay_record(r);
  for (auto it = res["error_pct"].begin(); it != res["error_pct"].end(); ++it)
    EXPECT_NEAR(it.value().get<double>(), -20.0, 0.01) << it.key();
  EXPECT_NEAR(res["mape"].get<double>(), 20.0, 0.01);
  EXPECT_FALSE(res["saturated"].get<bool>());
}

TEST(ReplayBench, WhatKunsimCannotModelIsRefused) {
  for (const char* serve :
       {"vllm serve Qwen/Qwen3-8B --enable-expert-parallel", "vllm serve Qwen/Qwen3-8B --kv-cache-dtype fp8",
        "vllm serve Qwen/Qwen3-8B --speculative-config {}", "vllm serve Qwen/Qwen3-8B --foo 1",
        "vllm serve Qwen/Qwen3-8B --async-scheduling", "vllm serve Qwen/Qwen3-8B -dp 2",
        "vllm serve Mystery/Model-7B"}) {
    BenchRecord r = small_record();
    r.serve = serve;
    EXPECT_THROW(scenario_of_record(r), InputError) << serve;
  }
  BenchRecord r = small_record();
  r.bench = "vllm bench serve --dataset-name sharegpt --num-prompts 10";
  EXPECT_THROW(scenario_of_record(r), InputError);
}

// --save-detailed's per-request arrays replay request by request, whatever the dataset: each
// request gets its recorded lengths, in order (a failed one, output 0, asks for one token).
TEST(ReplayBench, ADetailedRecordReplaysItsOwnLengthsInOrder) {
  BenchRecord r = small_record();
  r.bench =
      "vllm bench serve --model Qwen/Qwen3-8B --dataset-name sharegpt --dataset-path sg.json "
      "--sharegpt-output-len 300 --num-prompts 4 --max-concurrency 2";
  EXPECT_THROW(scenario_of_record(r), InputError) << "no lengths: a ShareGPT run cannot be replayed";
  r.detailed = VllmBenchResult::PerRequest{
      .input_lens = {120, 3400, 56, 800}, .output_lens = {80, 0, 512, 33}, .ttfts = {}, .itls = {}};
  r.measured = {{"completed", 3}, {"duration", 10}};
  const Json s = scenario_of_record(r);
  EXPECT_EQ(s["workload"]["max_requests"], 4);
  EXPECT_EQ(s["workload"]["synthetic"]["input_tokens"],
            (Json{{"type", "sequence"}, {"lengths", {120, 3400, 56, 800}}}));
  EXPECT_EQ(s["workload"]["synthetic"]["output_tokens"], (Json{{"type", "sequence"}, {"lengths", {80, 1, 512, 33}}}));
  // The run sends exactly those requests: requests.csv row by row.
  const auto dir = test::scratch("replay-detailed");
  const Scenario sc = scenario_from_json(s, TracePaths{});
  Simulation(sc, RunOptions{.out_dir = dir.string(), .wall_clock = false}).run();
  // requests.csv: id, arrival_s, instance, prompt_tokens, output_tokens, ...
  std::map<int, std::pair<int, int>> lengths;
  std::istringstream csv(test::read_file(dir / "requests.csv"));
  std::string line;
  std::getline(csv, line);  // the header
  while (std::getline(csv, line)) {
    std::vector<std::string> cells;
    std::istringstream cs(line);
    for (std::string c; std::getline(cs, c, ',');) cells.push_back(c);
    lengths[std::stoi(cells[0])] = {std::stoi(cells[3]), std::stoi(cells[4])};
  }
  EXPECT_EQ(lengths,
            (std::map<int, std::pair<int, int>>{{0, {120, 80}}, {1, {3400, 1}}, {2, {56, 512}}, {3, {800, 33}}}));
  const Json res = replay_record(r);
  EXPECT_TRUE(res.contains("mape"));
  EXPECT_EQ(res["kunsim"].size(), 1u) << "the one figure the record has: duration";
}

// A finite-rate open loop is saturated when the real server fell behind: its throughput short of
// the offered rate, or (with per-request TTFTs) its TTFT growing through the run. A burst never is.
TEST(ReplayBench, SaturationIsFlaggedOnlyInFiniteRateOpenLoops) {
  BenchRecord r = small_record();
  r.bench = "vllm bench serve --model Qwen/Qwen3-8B --dataset-name sharegpt --num-prompts 8 --request-rate 4";
  r.detailed = VllmBenchResult::PerRequest{.input_lens = std::vector<std::int64_t>(8, 500),
                                           .output_lens = std::vector<std::int64_t>(8, 50),
                                           .ttfts = {0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 1.5},
                                           .itls = {}};
  r.measured = {{"completed", 8}, {"request_throughput", 3.9}, {"duration", 2}};
  const Json grew = replay_record(r);
  EXPECT_TRUE(grew["saturated"].get<bool>());
  EXPECT_NE(grew["saturated_why"].get<std::string>().find("TTFT grew"), std::string::npos);
  r.detailed->ttfts = {0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2};
  EXPECT_FALSE(replay_record(r)["saturated"].get<bool>()) << "steady TTFT, throughput at the offered rate";
  r.measured["request_throughput"] = 3;
  EXPECT_TRUE(replay_record(r)["saturated"].get<bool>()) << "throughput 25% short of 4 requests/s";
  r.bench = "vllm bench serve --model Qwen/Qwen3-8B --dataset-name sharegpt --num-prompts 8";
  r.detailed->ttfts = {0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9, 1.5};
  EXPECT_FALSE(replay_record(r)["saturated"].get<bool>()) << "rate inf: a queue drain, compared whole";
}

// The committed manifest (no ../shared needed): the 4K runs on H100 and A100 replay within their
// recorded MAPE + 2 points.
TEST(ReplayBench, TheManifestsMapeDoesNotRegress) {
  int checked = 0;
  for (const BenchRecord& r :
       load_bench_records(std::string(KUNSIM_SOURCE_DIR) + "/calibrate/validation/gpustack-vllm.json")) {
    if (r.id != "qwen3-14b/h100 random 4K" && r.id != "qwen3-14b/a100 random 4K") continue;
    ASSERT_TRUE(r.recorded_mape) << r.id;
    const Json res = replay_record(r);
    EXPECT_LE(res["mape"].get<double>(), *r.recorded_mape + 2) << r.id;
    ++checked;
  }
  EXPECT_EQ(checked, 2);
}

}  // namespace
}  // namespace kunsim
