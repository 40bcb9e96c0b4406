// Metric windows: a run's figures over the requests arriving in a stretch of it (the burst by
// default), checked against requests.csv by hand; ITL cut at the window's edges by the times
// the gaps end; and the scenario's windows named, moved and refused as documented.
#include "sim/metrics/window_metrics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include "run/scenario.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

// Gaps of 10, 12, 14, 16, 18, 20 ns back to back from t = 0 end at 10, 22, 36, 52, 70, 90: a
// window [30, 71) ns holds the three ending at 36, 52 and 70, of 2 requests each.
TEST(WindowMetrics, ItlIsTheGapsEndingInTheWindow) {
  WindowMetrics w({"w", kSimTimeZero + SimDuration::from_ns(30), kSimTimeZero + SimDuration::from_ns(71)});
  w.on_token_gaps({.first_ns = 10, .step_ns = 2, .steps = 6, .count = 2, .from = kSimTimeZero});
  w.on_token_gaps({.first_ns = 5, .count = 4, .from = kSimTimeZero + SimDuration::from_ns(71)});  // ends at 76: out
  const Json itl = w.to_json()["itl_s"];
  EXPECT_NEAR(itl["min"].get<double>(), 14e-9, 1e-12);
  EXPECT_NEAR(itl["max"].get<double>(), 18e-9, 1e-12);
  EXPECT_NEAR(itl["mean"].get<double>(), 16e-9, 1e-12);
}

Json burst_scenario() {
  Json s = test::tiny_cluster_scenario();
  s["workload"]["synthetic"]["duration_s"] = 40;
  s["workload"]["bursts"] = Json::parse(R"([{"start_s": 15, "duration_s": 5, "multiplier": 4}])");
  s["workload"]["window"] = {{"start_s", 5}};  // the burst is at 10-15 s of the run
  s["slo"] = {{"ttft_s", 0.3}, {"tpot_s", 0.05}};
  return s;
}

struct Row {
  double arrival, ttft;
  bool met;
};

std::vector<Row> rows_of(const std::filesystem::path& csv, double ttft_slo, double tpot_slo) {
  std::istringstream in(test::read_file(csv));
  std::string line;
  std::getline(in, line);  // header: id,arrival_s,instance,prompt,output,generated,status,queue,ttft,tpot,...
  std::vector<Row> out;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) c.push_back(cell);
    const double ttft = std::stod(c[8]), tpot = c[9].empty() ? 0 : std::stod(c[9]);
    out.push_back({std::stod(c[1]), ttft, c[6] == "finished" && ttft <= ttft_slo && tpot <= tpot_slo});
  }
  return out;
}

// The burst's window holds exactly the requests that arrived in it: its count, its P99 TTFT
// (numpy's linear interpolation) and its attainment agree with requests.csv, and it is harder on
// them than the whole run is.
TEST(WindowMetrics, TheBurstWindowMatchesRequestsCsvByHand) {
  const auto dir = test::scratch("window-burst");
  const Json s = test::run_scenario(burst_scenario(), dir);
  ASSERT_TRUE(s.contains("windows")) << s.dump(1);
  const Json& w = s["windows"]["burst"];
  EXPECT_DOUBLE_EQ(w["start_s"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(w["duration_s"].get<double>(), 5);
  std::vector<double> ttft;
  std::int64_t met = 0;
  // requests.csv rounds to the microsecond: an arrival within 1 us of an edge is left out of the check.
  for (const Row& r : rows_of(dir / "requests.csv", 0.3, 0.05)) {
    if (std::abs(r.arrival - 10) < 1e-6 || std::abs(r.arrival - 15) < 1e-6) GTEST_SKIP() << "an arrival at an edge";
    if (r.arrival < 10 || r.arrival >= 15) continue;
    ttft.push_back(r.ttft);
    met += r.met;
  }
  ASSERT_GT(ttft.size(), 100u);
  EXPECT_EQ(w["requests"]["arrived"].get<std::size_t>(), ttft.size());
  std::sort(ttft.begin(), ttft.end());
  const double pos = 0.99 * static_cast<double>(ttft.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  EXPECT_NEAR(w["ttft_s"]["p99"].get<double>(), ttft[lo] + (ttft[lo + 1] - ttft[lo]) * (pos - static_cast<double>(lo)),
              2e-6);
  EXPECT_NEAR(w["slo"]["attainment"].get<double>(), static_cast<double>(met) / static_cast<double>(ttft.size()), 1e-6);
  EXPECT_GT(w["ttft_s"]["p99"].get<double>(), s["ttft_s"]["p99"].get<double>() * 0.999);
  EXPECT_GT(w["itl_s"]["p99"].get<double>(), 0);
}

// A window is measurement only: the run's other figures are byte-identical with and without it.
TEST(WindowMetrics, AWindowChangesNoOtherFigure) {
  Json with = burst_scenario();
  with["metrics"] = Json::parse(R"({"windows": [{"name": "early", "start_s": 0, "duration_s": 3}]})");
  Json without = burst_scenario();
  without["metrics"] = {{"burst_windows", false}};
  Json a = test::run_scenario(with), b = test::run_scenario(without);
  EXPECT_TRUE(a["windows"].contains("early") && a["windows"].contains("burst"));
  EXPECT_FALSE(b.contains("windows"));
  a.erase("windows");
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(WindowMetrics, ScenarioWindowsAreNamedMovedAndRefused) {
  Json s = burst_scenario();
  s["workload"]["bursts"].push_back({{"start_s", 100}, {"duration_s", 5}, {"multiplier", 2}});  // past the end
  s["workload"]["bursts"].push_back({{"start_s", 0}, {"duration_s", 8}, {"multiplier", 2}});    // cut at the start
  const Scenario sc = scenario_from_json(s, TracePaths{});
  std::vector<std::string> names;
  for (const MetricWindow& w : sc.windows) names.push_back(w.name);
  // burst2 (100-105 s) is past the synthetic workload's 40 s but inside its open window: kept.
  EXPECT_EQ(names, (std::vector<std::string>{"burst1", "burst2", "burst3"}));
  EXPECT_EQ(sc.windows[2].start, kSimTimeZero);  // 0-8 s of the workload is 0-3 s of the run
  EXPECT_EQ(sc.windows[2].end, at_seconds(3));

  Json dup = burst_scenario();
  dup["metrics"] = Json::parse(R"({"windows": [{"name": "burst", "start_s": 0, "duration_s": 3}]})");
  try {
    scenario_from_json(dup, TracePaths{});
    ADD_FAILURE() << "a window named as the burst is accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.burst_windows false"), std::string::npos) << e.what();
  }
  Json bad = burst_scenario();
  bad["metrics"] = Json::parse(R"({"windows": [{"name": "a.b", "start_s": 0, "duration_s": 3}]})");
  EXPECT_THROW(scenario_from_json(bad, TracePaths{}), InputError);
  bad["metrics"] = Json::parse(R"({"windows": [{"name": "a", "start_s": 0, "duration_s": 0}]})");
  EXPECT_THROW(scenario_from_json(bad, TracePaths{}), InputError);
}

}  // namespace
}  // namespace kunsim
