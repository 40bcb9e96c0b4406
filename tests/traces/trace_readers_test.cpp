#include <gtest/gtest.h>

#include "test_support.hpp"
#include "traces/trace_format_registry.hpp"
#include "traces/workload.hpp"

namespace kunsim {
namespace {

using test::scratch;
using test::shared_traces;
using test::write_file;

struct Read {
  std::int64_t rows = 0, skipped = 0, in_sum = 0, out_sum = 0;
  SimTime last = kSimTimeZero;
};

Read read_all(const std::string& format, const std::string& path) {
  auto src = open_trace(format, path, "format");
  Read r;
  while (auto t = src->next()) {
    ++r.rows;
    r.in_sum += t->prompt;
    r.out_sum += t->output;
    EXPECT_GE(t->arrival, r.last);
    r.last = t->arrival;
  }
  r.skipped = src->skipped();
  return r;
}

std::string error_of(const std::string& format, const std::string& path) {
  try {
    read_all(format, path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TraceReaders, RealAzureTraces) {
  KUNSIM_REQUIRE_TRACES();
  const Read code = read_all("azure", shared_traces() + "/azure_llm_2023/AzureLLMInferenceTrace_code.csv");
  EXPECT_EQ(code.rows, 8819);
  EXPECT_NEAR(ns_to_seconds(code.last), 3435.95, 0.01);  // SOURCE.md: 3,436 s span
  EXPECT_NEAR(static_cast<double>(code.in_sum) / code.rows, 2048, 1);
  const Read conv = read_all("azure", shared_traces() + "/azure_llm_2023/AzureLLMInferenceTrace_conv.csv");
  EXPECT_EQ(conv.rows, 19366);
  EXPECT_NEAR(static_cast<double>(conv.out_sum) / conv.rows, 211, 1);
}

TEST(TraceReaders, RealVidurTracesMatchAzureRowForRow) {
  KUNSIM_REQUIRE_TRACES();
  const Read v = read_all("vidur", shared_traces() + "/vidur_processed_traces/splitwise_conv.csv");
  const Read a = read_all("azure", shared_traces() + "/azure_llm_2023/AzureLLMInferenceTrace_conv.csv");
  EXPECT_EQ(v.rows, a.rows);
  EXPECT_EQ(v.in_sum, a.in_sum);
  EXPECT_EQ(v.out_sum, a.out_sum);
  EXPECT_NEAR(ns_to_seconds(v.last), 3501.72, 0.01);
}

TEST(TraceReaders, RealMooncakeTrace) {
  KUNSIM_REQUIRE_TRACES();
  const Read m = read_all("mooncake", shared_traces() + "/mooncake_fast25/synthetic_trace.jsonl");
  EXPECT_EQ(m.rows, 3993);
  EXPECT_NEAR(ns_to_seconds(m.last), 1022.025, 1e-6);
  EXPECT_NEAR(static_cast<double>(m.in_sum) / m.rows, 15325, 1);
}

TEST(TraceReaders, AzureSampleParsesTimestampsTo100ns) {
  const auto dir = scratch("azure");
  write_file(dir / "a.csv",
             "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 23:59:59.9999999,10,2\r\n"
             "2023-11-17 00:00:00.0000001,20,3\r\n");
  auto src = open_trace("azure", (dir / "a.csv").string(), "format");
  EXPECT_EQ(src->next()->arrival, kSimTimeZero);
  const auto second = src->next();
  EXPECT_EQ(second->arrival, at_ns(200));  // across midnight, 0.2 us later
  EXPECT_EQ(second->prompt, 20);
  EXPECT_FALSE(src->next());
}

TEST(TraceReaders, BurstGptSkipsAndCountsFailedRequests) {
  const auto dir = scratch("burst");
  write_file(dir / "b.csv",
             "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
             "5,ChatGPT,472,18,490,Conversation log\n"
             "45,ChatGPT,1087,0,1087,Conversation log\n"
             "118,GPT-4,417,276,693,API log\n");
  const Read r = read_all("burstgpt", (dir / "b.csv").string());
  EXPECT_EQ(r.rows, 2);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.last, at_seconds(113));
  EXPECT_EQ(detect_trace_format((dir / "b.csv").string()), "burstgpt");
}

TEST(TraceReaders, VidurAndMooncakeSamples) {
  const auto dir = scratch("vm");
  write_file(dir / "v.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,4808,10\n0.052,3180,8\n");
  EXPECT_EQ(read_all("vidur", (dir / "v.csv").string()).last, at_ns(52'000'000));
  write_file(dir / "m.jsonl",
             "{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500, \"hash_ids\": [0]}\n"
             "{\"timestamp\": 1500, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [1]}\n");
  const Read m = read_all("mooncake", (dir / "m.jsonl").string());
  EXPECT_EQ(m.rows, 2);
  EXPECT_EQ(m.last, at_ns(1'500'000'000));
  EXPECT_EQ(detect_trace_format((dir / "m.jsonl").string()), "mooncake");
}

TEST(TraceReaders, BadRowsNameFileAndLine) {
  const auto dir = scratch("bad");
  const std::string p = (dir / "x.csv").string();
  write_file(p, "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,10,2\n0.5,abc,2\n");
  EXPECT_EQ(error_of("vidur", p), p + ":3: prompt tokens: expected an integer in [0, 10000000], got \"abc\"");
  write_file(p, "arrived_at,num_prefill_tokens,num_decode_tokens\n1.0,10,2\n0.5,10,2\n");
  EXPECT_NE(error_of("vidur", p).find(p + ":3: arrival time goes back"), std::string::npos);
  write_file(p, "arrived_at,num_prefill_tokens,num_decode_tokens\n1.0,10\n");
  EXPECT_EQ(error_of("vidur", p), p + ":2: expected 3 comma-separated fields, got 2");
  write_file(p, "arrived_at,num_prefill_tokens,num_decode_tokens\nnan,10,2\n");
  EXPECT_NE(error_of("vidur", p).find(p + ":2: arrived_at: expected a finite number"), std::string::npos);
  write_file(p, "");
  EXPECT_EQ(error_of("vidur", p), p + ": empty trace file");
  std::string binary = "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,1";
  binary += '\0';
  binary += ",2\n";
  write_file(p, binary);
  EXPECT_NE(error_of("vidur", p).find(":2: binary data"), std::string::npos);
  EXPECT_EQ(error_of("vidur", (dir / "missing.csv").string()),
            (dir / "missing.csv").string() + ": trace file not found");
  write_file(p, "{\"timestamp\": 44444444454444444e4444444444444, \"input_length\": 4}\n");  // found by fuzzing
  EXPECT_NE(error_of("mooncake", p).find(p + ":1: malformed JSON line"), std::string::npos);
  write_file(p, "{\"timestamp\": 0, \"input_length\": -4, \"output_length\": 1}\n");
  EXPECT_NE(error_of("mooncake", p).find(p + ":1: \"input_length\": expected an integer"), std::string::npos);
}

// Every format's times must fit int64 nanoseconds with room to run: each refuses a span past
// 1e9 s at file:line, whatever unit it writes time in, instead of wrapping (which once made
// requests vanish, or "time went backwards").
TEST(TraceReaders, EveryFormatRefusesTimesPastTheLimit) {
  const auto dir = scratch("overflow");
  const std::string p = (dir / "t").string();
  const auto refused = [&](const std::string& format, const std::string& text, const std::string& expected) {
    write_file(p, text);
    const std::string e = error_of(format, p);
    EXPECT_EQ(e.rfind(p + expected, 0), 0u) << format << ": " << e;
  };
  refused("kunsim",
          "{\"format\": \"kunsim-requests\", \"hash_block_tokens\": 16}\n"
          "{\"arrival_s\": 1e300, \"input_tokens\": 4, \"output_tokens\": 4}\n",
          ":2: \"arrival_s\": expected seconds in [0, 1e9]");
  refused("vidur", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,4,4\n9.3e9,4,4\n",
          ":3: arrived_at: expected a finite number in [0, 1e9]");
  refused("burstgpt", "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n1e10,m,4,4,8,x\n",
          ":2: Timestamp: expected a finite number in [0, 1e9]");
  // Azure's absolute dates: 1970 to 2200 fit int64 ns, but not a span of more than 1e9 s.
  refused("azure", "TIMESTAMP,ContextTokens,GeneratedTokens\n1970-01-01 00:00:00,4,4\n2200-01-01 00:00:00,4,4\n",
          ":3: arrival 7258118400.000000 s after the first row is past the longest trace");
  refused("azure", "TIMESTAMP,ContextTokens,GeneratedTokens\n9999-01-01 00:00:00,4,4\n",
          ":2: TIMESTAMP year: expected an integer in [1970, 2200]");
  refused("azure", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-31 00:00:00,4,4\n",
          ":2: TIMESTAMP day: expected an integer in [1, 30]");
  refused("mooncake",
          "{\"timestamp\": 0, \"input_length\": 4, \"output_length\": 4}\n"
          "{\"timestamp\": 99999999999, \"input_length\": 4, \"output_length\": 4}\n",
          ":2: \"timestamp\": expected an integer in [0, 10000000000]");
  // rate_scale stretches a trace's time; the stretched arrival must fit as well.
  write_file(p, "arrived_at,num_prefill_tokens,num_decode_tokens\n0,4,4\n9e8,4,4\n");
  const Json j = Json::parse(R"({"trace": {"format": "vidur", "path": ")" + p + R"("}, "rate_scale": 0.5})");
  auto src = make_arrival_source(workload_from_json(j, "workload", TracePaths{}), Rng(1));
  ASSERT_TRUE(src->next());
  try {
    src->next();
    ADD_FAILURE() << "a stretched arrival past 1e9 s was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("workload.rate_scale: 0.5 stretches the arrival at " + p + ":3 to 1.8e+09 s", 0),
        0u)
        << e.what();
  }
}

TEST(Workload, TraceStatsRefusesWindowsItCannotHold) {
  const auto dir = scratch("windows");
  const std::string p = (dir / "t.csv").string();
  write_file(p, "arrived_at,num_prefill_tokens,num_decode_tokens\n0,4,4\n9e8,4,4\n");
  auto src = open_trace("vidur", p, "format");
  EXPECT_THROW(compute_profile(*src, 1e-300, "t"), InputError);  // was SIGFPE: a 0 ns window
  auto again = open_trace("vidur", p, "format");
  try {
    compute_profile(*again, 1, "t");
    ADD_FAILURE() << "9e8 one-second windows were accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(p + ":3: a window of 1.000000 s"), std::string::npos) << e.what();
  }
}

TEST(Workload, SyntheticGammaHasItsRateAndBurstsMultiplyIt) {
  const Json j = Json::parse(R"({"synthetic": {"arrival": "gamma", "rate": 50, "cv": 2, "duration_s": 200},
                                 "bursts": [{"start_s": 100, "duration_s": 50, "multiplier": 4}]})");
  const WorkloadSpec s = workload_from_json(j, "workload", TracePaths{});
  auto src = make_arrival_source(s, Rng(5));
  std::int64_t before = 0, burst = 0, after = 0;
  while (auto r = src->next()) {
    const double t = ns_to_seconds(r->arrival);
    (t < 100 ? before : t < 150 ? burst : after) += 1;
  }
  EXPECT_NEAR(before / 100.0, 50, 5);
  EXPECT_NEAR(burst / 50.0, 200, 20);
  EXPECT_NEAR(after / 50.0, 50, 8);
}

TEST(Workload, ProfileReplaysTheTraceShape) {
  const Json j = Json::parse(R"({"profile": "azure-conv"})");
  const WorkloadSpec s = workload_from_json(j, "workload", TracePaths{});
  ASSERT_TRUE(s.profile);
  EXPECT_EQ(s.profile->requests, 19366);  // the shipped profile of the public conv trace
  auto src = make_arrival_source(s, Rng(1));
  std::int64_t n = 0;
  double in = 0;
  while (auto r = src->next()) {
    ++n;
    in += r->prompt;
  }
  EXPECT_NEAR(static_cast<double>(n), 19366, 500);
  EXPECT_NEAR(in / static_cast<double>(n), 1155, 60);
}

TEST(Workload, TraceWindowAndRateScale) {
  KUNSIM_REQUIRE_TRACES();
  const Json j = Json::parse(R"({"trace": {"format": "azure", "path": "azure_llm_2023/AzureLLMInferenceTrace_code.csv"},
      "window": {"start_s": 600, "duration_s": 300}, "rate_scale": 2})");
  const WorkloadSpec s = workload_from_json(j, "workload", TracePaths{shared_traces(), ""});
  auto src = make_arrival_source(s, Rng(1));
  SimTime last = kSimTimeZero;
  std::int64_t n = 0;
  while (auto r = src->next()) {
    last = r->arrival;
    ++n;
  }
  EXPECT_GT(n, 300);
  EXPECT_LE(last, at_seconds(150.0)) << "300 s of trace compressed 2x";
}

TEST(Workload, MissingTraceSaysWhereItLooked) {
  const Json j = Json::parse(R"({"trace": {"format": "azure", "path": "nowhere/x.csv"}})");
  try {
    workload_from_json(j, "workload", TracePaths{"/tmp/td", ""});
    FAIL();
  } catch (const InputError& e) {
    const std::string w = e.what();
    EXPECT_EQ(w.rfind("workload.trace.path: trace file \"nowhere/x.csv\" not found (looked in: /tmp/td/nowhere/x.csv", 0), 0u) << w;
  }
}

}  // namespace
}  // namespace kunsim
