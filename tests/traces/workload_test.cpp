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
