// vllm bench serve's client: --request-rate inf sends every request at t = 0, and
// --max-concurrency C keeps at most C out at once, each next one sent when a response is back.
// Checked from requests.csv by hand: the concurrency, the sends, and Little's law.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "test_support.hpp"

namespace kunsim {
namespace {

Json closed_loop(int concurrency, int prompts) {
  Json s = test::tiny_cluster_scenario();
  s["deployment"]["instances"] = 1;
  s["workload"] = Json::parse(R"({"synthetic": {"rate": "inf",
      "input_tokens": {"type": "uniform", "min": 100, "max_value": 1500},
      "output_tokens": {"type": "uniform", "min": 20, "max_value": 300}}})");
  s["workload"]["max_requests"] = prompts;
  if (concurrency > 0) s["workload"]["max_concurrency"] = concurrency;
  return s;
}

struct Sent {
  double at, back;  // sent, and its response back at the client (arrival_s + e2e_s)
};

std::vector<Sent> sends(const std::filesystem::path& csv) {
  std::istringstream in(test::read_file(csv));
  std::string line;
  std::getline(in, line);  // id,arrival_s,instance,prompt,output,generated,status,queue,ttft,tpot,e2e,...
  std::vector<Sent> out;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) c.push_back(cell);
    out.push_back({std::stod(c[1]), std::stod(c[1]) + std::stod(c[10])});
  }
  return out;
}

constexpr double kCsvUs = 2e-6;  // requests.csv rounds to the microsecond

TEST(ClosedLoop, AtMostCOutAndEachSentWhenAResponseCameBack) {
  const int c = 4;
  const auto dir = test::scratch("closed-loop");
  const Json s = test::run_scenario(closed_loop(c, 200), dir);
  const std::vector<Sent> all = sends(dir / "requests.csv");
  ASSERT_EQ(all.size(), 200u);
  EXPECT_EQ(s["requests"]["completed"], 200);
  // Concurrency: +1 at each send, -1 at each response (responses first at equal times).
  std::vector<std::pair<double, int>> edges;
  for (const Sent& x : all) {
    edges.emplace_back(x.at, +1);
    edges.emplace_back(x.back - kCsvUs, -1);
  }
  std::sort(edges.begin(), edges.end());
  int out = 0, peak = 0;
  for (const auto& [t, d] : edges) peak = std::max(peak, out += d);
  EXPECT_EQ(peak, c);
  // C sent at once; every other one the moment an earlier response came back.
  EXPECT_EQ(std::count_if(all.begin(), all.end(), [](const Sent& x) { return x.at == 0; }), c);
  for (const Sent& x : all) {
    if (x.at == 0) continue;
    EXPECT_TRUE(std::any_of(all.begin(), all.end(), [&](const Sent& y) { return std::abs(y.back - x.at) <= kCsvUs; }))
        << "a send at " << x.at << " s with no response then";
  }
  const Json bench = Json::parse(test::read_file(dir / "vllm-bench.json"));
  EXPECT_EQ(bench["max_concurrency"], c);
  EXPECT_EQ(bench["request_rate"], "inf");
}

// Little's law in a closed loop without think time: throughput = C / mean E2E. 100 requests per
// client leave at most one response's time idle per client at the end: within 1%.
TEST(ClosedLoop, ThroughputIsConcurrencyOverMeanE2e) {
  const int c = 3;
  const auto dir = test::scratch("closed-loop-little");
  test::run_scenario(closed_loop(c, 100 * c), dir);
  const std::vector<Sent> all = sends(dir / "requests.csv");
  double e2e = 0, end = 0;
  for (const Sent& x : all) {
    e2e += x.back - x.at;
    end = std::max(end, x.back);
  }
  const double n = static_cast<double>(all.size());
  const double throughput = n / end, little = c / (e2e / n);
  EXPECT_NEAR(throughput / little, 1.0, 0.01) << throughput << " requests/s against " << little;
  EXPECT_LT(throughput, little * (1 + 1e-9)) << "idle clients at the end can only lower it";
}

TEST(ClosedLoop, RateInfSendsEveryRequestAtOnceAndIsCheckedAsInput) {
  const auto dir = test::scratch("rate-inf");
  test::run_scenario(closed_loop(0, 30), dir);
  for (const Sent& x : sends(dir / "requests.csv")) EXPECT_EQ(x.at, 0);
  Json bad = closed_loop(2, 30);
  bad["workload"].erase("max_requests");
  try {
    scenario_from_json(bad, TracePaths{});
    ADD_FAILURE() << "rate inf without a count is accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("workload.max_requests"), std::string::npos) << e.what();
  }
  bad = closed_loop(2, 30);
  bad["workload"]["synthetic"]["rate"] = "fast";
  EXPECT_THROW(scenario_from_json(bad, TracePaths{}), InputError);
  bad = closed_loop(2, 30);
  bad["workload"]["synthetic"]["arrival"] = "gamma";
  bad["workload"]["synthetic"]["cv"] = 2;
  EXPECT_THROW(scenario_from_json(bad, TracePaths{}), InputError);
  bad = closed_loop(0, 30);
  bad["workload"]["max_concurrency"] = 0;
  EXPECT_THROW(scenario_from_json(bad, TracePaths{}), InputError);
}

}  // namespace
}  // namespace kunsim
