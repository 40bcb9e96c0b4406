// Prefix identity in workloads: the kunsim JSONL trace (a hand-checked multi-turn trace whose
// hit rate is worked out below, in a run and in trace-stats), its bad rows, Mooncake hash_ids,
// and synthetic sharing (a shared system prompt, conversations) that a profile replays.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "traces/prefix_keys.hpp"
#include "traces/prefix_reuse.hpp"
#include "traces/trace_format_registry.hpp"
#include "traces/workload.hpp"
#include "traces/workload_profile.hpp"

namespace kunsim {
namespace {

using test::scratch;
using test::write_file;

// Two conversations on hash blocks of 16 tokens (vLLM's block), far apart in time so each
// request finishes before the next arrives:
//   s1 turn 1: 64 tokens [1 2 3 4]                 hits none
//   s1 turn 2: 100 tokens [1..6] (turn 1 + answer)  hits [1..4] = 64 (turn 1's prompt)
//   s2 turn 1: 48 tokens [10 11 12]                 hits none
//   s1 turn 3: 130 tokens [1..8]                    hits [1..6] = 96 (turn 2's prompt)
//   s2 again:  48 tokens [10 11 12]                 hits [10 11] = 32: the last block of a whole
//                                                   hit is computed again (the prefill samples)
// Served: 192 of 390 prompt tokens hit (0.492308). An ideal cache: 64 + 96 + 48 = 208 (0.533333).
constexpr const char* kTurns =
    R"({"format": "kunsim-requests", "hash_block_tokens": 16}
{"arrival_s": 0, "input_tokens": 64, "output_tokens": 8, "hash_ids": [1, 2, 3, 4], "session": "s1"}
{"arrival_s": 10, "input_tokens": 100, "output_tokens": 8, "hash_ids": [1, 2, 3, 4, 5, 6, 99], "session": "s1"}
{"arrival_s": 20, "input_tokens": 48, "output_tokens": 4, "hash_ids": [10, 11, 12], "session": "s2"}
{"arrival_s": 30, "input_tokens": 130, "output_tokens": 8, "hash_ids": [1, 2, 3, 4, 5, 6, 7, 8, 98], "session": "s1"}
{"arrival_s": 40, "input_tokens": 48, "output_tokens": 4, "hash_ids": [10, 11, 12], "session": "s2"}
)";

Json one_instance(const Json& workload) {
  Json s = test::tiny_cluster_scenario();
  s["deployment"]["instances"] = 1;
  s["workload"] = workload;
  return s;
}

TEST(PrefixWorkload, KunsimTraceHitRateOfAMultiTurnTraceByHand) {
  const auto dir = scratch("prefix-turns");
  write_file(dir / "turns.jsonl", kTurns);
  EXPECT_EQ(detect_trace_format((dir / "turns.jsonl").string()), "kunsim");
  auto src = open_trace("kunsim", (dir / "turns.jsonl").string(), "format");
  auto first = src->next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->prefix, prefix_keys({1, 2, 3, 4}, 64, 16));
  EXPECT_EQ(first->prefix_block_tokens, 16);
  EXPECT_NE(first->session, 0u);
  auto second = src->next();
  EXPECT_EQ(second->prefix.size(), 6u);  // 100 tokens: 6 full blocks (the 7th id is a partial one)
  EXPECT_EQ(second->prefix[3], first->prefix[3]);
  EXPECT_EQ(second->session, first->session);

  const Json run = test::run_scenario(one_instance({{"trace", {{"format", "kunsim"}, {"path", (dir / "turns.jsonl").string()}}}}));
  const Json& pc = run["prefix_cache"];
  EXPECT_EQ(pc["prompt_tokens"], 390);
  EXPECT_EQ(pc["hit_tokens"], 192);
  EXPECT_EQ(pc["hit_blocks"], 12);
  EXPECT_DOUBLE_EQ(pc["hit_rate"].get<double>(), 0.492308);
  // Off: the same run prefills everything.
  Json off = one_instance({{"trace", {{"format", "kunsim"}, {"path", (dir / "turns.jsonl").string()}}}});
  off["deployment"]["enable_prefix_caching"] = false;
  EXPECT_EQ(test::run_scenario(off)["prefix_cache"]["hit_tokens"], 0);

  auto again = open_trace("kunsim", (dir / "turns.jsonl").string(), "format");
  const WorkloadProfile p = compute_profile(*again, 60, "turns");
  ASSERT_TRUE(p.reuse);
  EXPECT_EQ(p.reuse->hit_tokens, 208);
  EXPECT_DOUBLE_EQ(p.reuse->hit_rate, 0.5333);
  EXPECT_DOUBLE_EQ(p.reuse->continued_share, 0.6);  // 3 of 5 start with a block seen before
}

TEST(PrefixWorkload, BadKunsimRowsNameFileAndLine) {
  const auto dir = scratch("prefix-bad");
  const std::string header = R"({"format": "kunsim-requests", "hash_block_tokens": 16})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"format": "kunsim-requests"})", "bad.jsonl:1: missing \"hash_block_tokens\""},
      {header + "\n" + R"({"arrival_s": 0, "input_tokens": 10, "output_tokens": 1, "hash_ids": [1, -2]})",
       "bad.jsonl:2: \"hash_ids\": expected non-negative integers"},
      {header + "\n" + R"({"arrival_s": 0, "input_tokens": 10, "output_tokens": 1, "session": 5})",
       "bad.jsonl:2: \"session\": expected a string"},
      {header + "\n" + R"({"input_tokens": 10, "output_tokens": 1})", "bad.jsonl:2: \"arrival_s\""},
  };
  for (const auto& [text, message] : cases) {
    write_file(dir / "bad.jsonl", text + "\n");
    try {
      auto src = open_trace("kunsim", (dir / "bad.jsonl").string(), "format");
      while (src->next()) {
      }
      ADD_FAILURE() << "accepted: " << text;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

TEST(PrefixWorkload, AHashBlockThatIsNotWholeKvBlocksIsAnInputError) {
  const auto dir = scratch("prefix-misfit");
  write_file(dir / "t.jsonl", R"({"format": "kunsim-requests", "hash_block_tokens": 24}
{"arrival_s": 0, "input_tokens": 64, "output_tokens": 8, "hash_ids": [1, 2]}
)");
  const Json s = one_instance({{"trace", {{"format", "kunsim"}, {"path", (dir / "t.jsonl").string()}}}});
  try {
    test::run_scenario(s);
    ADD_FAILURE() << "ran";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not a multiple of deployment.block_size (16)"), std::string::npos) << e.what();
  }
  Json syn = test::tiny_cluster_scenario();
  syn["workload"]["sharing"] = {{"hash_block_tokens", 24}, {"system_prompt_tokens", 48}};
  try {
    scenario_from_json(syn, TracePaths{});
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("workload.sharing.hash_block_tokens"), std::string::npos) << e.what();
  }
}

TEST(PrefixWorkload, RealMooncakeHashIdsCoverFullBlocks) {
  const std::string path = test::shared_traces() + "/mooncake_fast25/synthetic_trace.jsonl";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path << " (../shared absent)";
  auto src = open_trace("mooncake", path, "format");
  const auto r = src->next();
  // 40160 tokens: 78 full blocks of 512 (the 79th id names a partial one).
  EXPECT_EQ(r->prompt, 40160);
  EXPECT_EQ(r->prefix.size(), 78u);
  EXPECT_EQ(r->prefix_block_tokens, 512);
  auto all = open_trace("mooncake", path, "format");
  const WorkloadProfile p = compute_profile(*all, 60, "mooncake");
  ASSERT_TRUE(p.reuse && p.sharing);
  EXPECT_NEAR(p.reuse->hit_rate, 0.65, 0.01);  // an ideal cache hits about two thirds
}

TEST(PrefixWorkload, SyntheticSystemPromptIsSharedAndAProfileReplaysConversations) {
  Json s = test::tiny_cluster_scenario();
  s["deployment"]["instances"] = 1;
  s["workload"]["synthetic"]["input_tokens"] = {{"type", "uniform"}, {"min", 600}, {"max_value", 2000}};
  s["workload"]["synthetic"]["rate"] = 2;
  s["workload"]["sharing"] = {{"system_prompt_tokens", 512}};
  const Json run = test::run_scenario(s);
  // Each prompt starts with the same 512 tokens: all but the first request find them.
  const auto n = run["requests"]["completed"].get<std::int64_t>();
  ASSERT_GT(n, 10);
  EXPECT_EQ(run["prefix_cache"]["hit_tokens"].get<std::int64_t>(), (n - 1) * 512);

  // Conversations: a profile fitted to the stream draws about as much reuse again.
  s["workload"]["sharing"] = {{"session_turns", 3}, {"open_sessions", 8}};
  const Scenario sc = scenario_from_json(s, TracePaths{});
  auto src = make_arrival_source(sc.workload, Rng(3));
  const WorkloadProfile p = compute_profile(*src, 10, "conversations");
  ASSERT_TRUE(p.reuse && p.sharing);
  EXPECT_GT(p.reuse->continued_share, 0.4);
  EXPECT_NEAR(p.sharing->session_turns, 3, 1.0);
  WorkloadSpec replay = sc.workload;
  replay.kind = WorkloadSpec::Kind::Profile;
  replay.profile = std::make_shared<WorkloadProfile>(p);
  replay.sharing = p.sharing;
  auto again = make_arrival_source(replay, Rng(4));
  const WorkloadProfile q = compute_profile(*again, 10, "replay");
  ASSERT_TRUE(q.reuse);
  EXPECT_NEAR(q.reuse->hit_rate, p.reuse->hit_rate, 0.1) << p.reuse->hit_rate << " vs " << q.reuse->hit_rate;
}

TEST(PrefixWorkload, ZipfDocumentsFollowTheSystemPromptAndTheHotOnesAreReused) {
  Json s = test::tiny_cluster_scenario();
  s["workload"]["synthetic"]["input_tokens"] = {{"type", "uniform"}, {"min", 1200}, {"max_value", 2000}};
  s["workload"]["sharing"] = {{"system_prompt_tokens", 100}, {"documents", 50}, {"document_tokens", 1000},
                              {"document_zipf", 1.2}};
  const Scenario sc = scenario_from_json(s, TracePaths{});
  auto src = make_arrival_source(sc.workload, Rng(5));
  // Every prompt opens with the same 6 full blocks of system prompt (96 of its 100 tokens).
  auto first = src->next();
  auto second = src->next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->prefix[5], second->prefix[5]);
  const WorkloadProfile p = compute_profile(*src, 10, "documents");
  ASSERT_TRUE(p.reuse);
  // Every prompt after the first shares the system prompt's 96 tokens; the popular documents add
  // far more.
  EXPECT_GT(p.reuse->hit_rate, 0.3);
  EXPECT_GT(p.reuse->distance_tokens.at(1), 0);
}

}  // namespace
}  // namespace kunsim
