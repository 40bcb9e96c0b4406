// vllm bench serve's result JSON through kunsim's one reader and writer: a real --save-result
// file's keys read back as written, kunsim's own vllm-bench.json read as a record, the
// per-request arrays of --save-detailed, and malformed ones named by key and index.
#include "sim/metrics/vllm_bench_result.hpp"

#include <gtest/gtest.h>

#include "run/simulation.hpp"
#include "sim/core/input_error.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

// The shape of a vLLM 0.11 --save-result --save-detailed file (values abridged).
const char* kSaved = R"({
  "date": "20251105-101010", "backend": "vllm", "model_id": "Qwen/Qwen3-14B", "tokenizer_id": "Qwen/Qwen3-14B",
  "num_prompts": 3, "request_rate": "inf", "burstiness": 1.0, "max_concurrency": null,
  "duration": 2.5, "completed": 2, "failed": 1, "total_input_tokens": 300, "total_output_tokens": 50,
  "request_throughput": 0.8, "output_throughput": 20.0, "mean_ttft_ms": 120.5, "p99_itl_ms": 30.25,
  "input_lens": [100, 100, 100], "output_lens": [20, 30, 0], "ttfts": [0.11, 0.13, 0.0],
  "itls": [[0.01, 0.02], [0.03], []], "generated_texts": ["a", "b", ""], "errors": ["", "", "timeout"]
})";

TEST(VllmBenchResult, ASavedResultReadsAndWritesBackUnderVllmsKeys) {
  const VllmBenchResult r = VllmBenchResult::from_json(Json::parse(kSaved), "saved.json");
  EXPECT_EQ(r.model_id, "Qwen/Qwen3-14B");
  EXPECT_FALSE(r.request_rate) << "\"inf\": every request at once";
  EXPECT_EQ(r.num_prompts, 3);
  EXPECT_DOUBLE_EQ(r.figures.at("mean_ttft_ms"), 120.5);
  EXPECT_DOUBLE_EQ(r.figures.at("completed"), 2);
  EXPECT_EQ(r.figures.count("date") + r.figures.count("generated_texts"), 0u) << "not figures";
  ASSERT_TRUE(r.detailed);
  EXPECT_EQ(r.detailed->output_lens, (std::vector<std::int64_t>{20, 30, 0}));
  ASSERT_TRUE(r.detailed->itls);
  EXPECT_EQ((*r.detailed->itls)[0], (std::vector<double>{0.01, 0.02}));
  // Written back: the same keys and values (counts as integers), read back the same.
  const Json w = r.to_json();
  EXPECT_EQ(w["completed"], 2);
  EXPECT_TRUE(w["completed"].is_number_integer());
  EXPECT_EQ(w["request_rate"], "inf");
  EXPECT_EQ(w["ttfts"], Json::parse("[0.11, 0.13, 0.0]"));
  EXPECT_EQ(VllmBenchResult::from_json(w, "again").to_json(), w);
}

TEST(VllmBenchResult, MalformedArraysAreNamedByKeyAndIndex) {
  Json j = Json::parse(kSaved);
  j["output_lens"] = Json::parse("[20, 30]");
  try {
    VllmBenchResult::from_json(j, "saved.json");
    FAIL() << "accepted arrays of different lengths";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "saved.json: output_lens: 2 entries, but input_lens has 3 (one per request)");
  }
  j = Json::parse(kSaved);
  j["input_lens"][1] = "long";
  EXPECT_THROW(VllmBenchResult::from_json(j, "saved.json"), InputError);
  j = Json::parse(kSaved);
  j["request_rate"] = "fast";
  EXPECT_THROW(VllmBenchResult::from_json(j, "saved.json"), InputError);
}

// kunsim run --save-detailed: vllm-bench.json lists every arrival, in id order, with what it got.
TEST(VllmBenchResult, KunsimsOwnFileCarriesPerRequestArraysWhenAsked) {
  Json j = test::tiny_cluster_scenario();
  j["workload"]["synthetic"]["duration_s"] = 5;
  const Scenario sc = scenario_from_json(j, TracePaths{});
  Simulation plain(sc, RunOptions{.out_dir = "", .wall_clock = false});
  const Json summary = plain.run();
  EXPECT_FALSE(plain.vllm_bench().contains("input_lens")) << "only when asked: 24 bytes per request";
  Simulation detailed(sc, RunOptions{.out_dir = "", .wall_clock = false, .save_detailed = true});
  detailed.run();
  const VllmBenchResult r = VllmBenchResult::from_json(detailed.vllm_bench(), "vllm-bench.json");
  ASSERT_TRUE(r.detailed);
  const auto arrived = summary["requests"]["arrived"].get<std::size_t>();
  ASSERT_EQ(r.detailed->input_lens.size(), arrived);
  EXPECT_FALSE(r.detailed->itls) << "kunsim keeps token gaps per cohort, not per request";
  std::int64_t in = 0, out = 0;
  for (std::size_t i = 0; i < arrived; ++i) {
    in += r.detailed->input_lens[i];
    out += r.detailed->output_lens[i];
    EXPECT_GT(r.detailed->ttfts[i], 0) << "every request finished";
  }
  EXPECT_EQ(in, r.figures.at("total_input_tokens"));
  EXPECT_EQ(out, r.figures.at("total_output_tokens"));
  // The aggregate figures do not change with the arrays.
  Json a = detailed.vllm_bench(), b = plain.vllm_bench();
  for (const char* k : {"input_lens", "output_lens", "ttfts"}) a.erase(k);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace kunsim
