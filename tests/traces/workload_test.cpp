// The workload section's own rules: one source, an end for synthetic arrivals, client timeouts
// in range, and where relative trace paths are looked for.
#include "traces/workload.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace kunsim {
namespace {

WorkloadSpec parse(const char* text) { return workload_from_json(Json::parse(text), "workload", TracePaths{}); }

std::string error_of(const char* text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(WorkloadSpec, ClientTimeoutIsOffByDefaultAndInRange) {
  EXPECT_FALSE(parse(R"({"synthetic": {"rate": 1, "duration_s": 10}})").client_timeout_s);
  EXPECT_EQ(parse(R"({"synthetic": {"rate": 1, "duration_s": 10}, "client_timeout_s": 30})").client_timeout_s, 30.0);
  EXPECT_NE(error_of(R"({"synthetic": {"rate": 1, "duration_s": 10}, "client_timeout_s": 0})").find("workload.client_timeout_s"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"synthetic": {"rate": 1, "duration_s": 10}, "client_timeout_s": "1s"})").find("workload.client_timeout_s"),
            std::string::npos);
}

TEST(WorkloadSpec, ExactlyOneSourceAndSyntheticArrivalsMustEnd) {
  EXPECT_NE(error_of(R"({})").find("exactly one of trace, synthetic, profile"), std::string::npos);
  EXPECT_NE(error_of(R"({"synthetic": {"rate": 1}})").find("workload.synthetic.duration_s"), std::string::npos);
  EXPECT_NO_THROW(parse(R"({"synthetic": {"rate": 1}, "max_requests": 5})"));
  EXPECT_NE(error_of(R"({"synthetic": {"rate": 1, "duration_s": 1}, "rate_sclae": 2})").find("rate_sclae"), std::string::npos);
}

// A sequence gives its lengths in order, one per request, and starts over after the last; it draws
// nothing from the RNG, so the arrival times are those of any other synthetic workload.
TEST(WorkloadSpec, ASequenceOfLengthsIsSentInOrder) {
  const WorkloadSpec s = parse(R"({"synthetic": {"rate": 10,
      "input_tokens": {"type": "sequence", "lengths": [120, 3400, 56]},
      "output_tokens": {"type": "sequence", "lengths": [80, 1, 512]}}, "max_requests": 5})");
  auto source = make_arrival_source(s, Rng(3));
  std::vector<std::pair<int, int>> got;
  while (auto r = source->next()) got.emplace_back(r->prompt, r->output);
  EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{120, 80}, {3400, 1}, {56, 512}, {120, 80}, {3400, 1}}));
  EXPECT_NE(error_of(R"({"synthetic": {"rate": 1, "input_tokens": {"type": "sequence", "lengths": []}},
                        "max_requests": 1})")
                .find("workload.synthetic.input_tokens.lengths"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"synthetic": {"rate": 1, "input_tokens": {"type": "sequence", "lengths": [5, 0]}},
                        "max_requests": 1})")
                .find("workload.synthetic.input_tokens.lengths[1]"),
            std::string::npos);
}

TEST(WorkloadSpec, TheTraceDirFlagWinsOverTheEnvironment) {
  ::setenv("KUNSIM_TRACE_DIR", "/from/env", 1);
  EXPECT_EQ(trace_paths("", "scen").trace_dir, "/from/env");
  EXPECT_EQ(trace_paths("/from/flag", "scen").trace_dir, "/from/flag");
  EXPECT_EQ(trace_paths("", "scen").scenario_dir, "scen");
  ::unsetenv("KUNSIM_TRACE_DIR");
  EXPECT_EQ(trace_paths("", "").trace_dir, "");
}

}  // namespace
}  // namespace kunsim
