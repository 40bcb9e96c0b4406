// The sweep library without the binary: a grid and a zip expand into runs in a fixed order,
// every point is validated before any runs, and a point that cannot run comes back as a typed
// Infeasible row with its reason while the others run.
#include "whatif/sweep.hpp"

#include <gtest/gtest.h>

#include "run/cluster_growth.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

std::filesystem::path write_sweep(const std::filesystem::path& dir, const Json& grid, const Json& zip = nullptr) {
  Json base = test::tiny_cluster_scenario();
  base["workload"]["synthetic"]["duration_s"] = 5;
  Json s = {{"name", "t"}, {"base", base}, {"grid", grid}, {"outputs", Json::array()}};
  if (!zip.is_null()) s["zip"] = zip;
  test::write_file(dir / "sweep.json", s.dump());
  return dir / "sweep.json";
}

TEST(SweepLibrary, GridThenZipInAFixedOrder) {
  const auto dir = test::scratch("whatif-sweep-order");
  const SweepSpec spec = load_sweep(write_sweep(dir, {{"seed", {1, 2}}, {"policy.name", {"vllm", "kunserve"}}},
                                                {{"deployment.instances", {2, 4}}})
                                        .string());
  ASSERT_EQ(spec.runs.size(), 8u);
  EXPECT_EQ(spec.keys, (std::vector<std::string>{"policy.name", "seed", "deployment.instances"}));
  EXPECT_EQ(spec.runs.back().scenario["policy"]["name"], "kunserve");
  EXPECT_EQ(spec.runs.back().scenario["seed"], 2);
  EXPECT_EQ(spec.runs.back().scenario["deployment"]["instances"], 4);
}

TEST(SweepLibrary, AnImpossiblePointIsATypedInfeasibleRowAndTheOthersRun) {
  const auto dir = test::scratch("whatif-sweep-infeasible");
  const SweepSpec spec = load_sweep(write_sweep(dir, {{"deployment.tp", {1, 3, 2}}}).string());
  SweepOptions opt;
  opt.progress = false;
  opt.out_dir = (dir / "o").string();
  const std::vector<SweepRow> rows = run_sweep(spec, opt);
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].index, i);
  EXPECT_EQ(rows[0].status, SweepStatus::Ok);
  EXPECT_EQ(rows[1].status, SweepStatus::Infeasible);
  EXPECT_EQ(rows[2].status, SweepStatus::Ok);
  EXPECT_NE(rows[1].reason.find("deployment.tp: 3 does not divide"), std::string::npos) << rows[1].reason;
  EXPECT_TRUE(rows[0].reason.empty());
  // The CSV row of an infeasible point keeps its values and says why, in the status column.
  EXPECT_EQ(rows[1].csv.rfind("1,3,", 0), 0u) << rows[1].csv;
  EXPECT_NE(rows[1].csv.find("infeasible: "), std::string::npos);
  EXPECT_NE(rows[0].csv.find(",ok,"), std::string::npos) << rows[0].csv;
}

// The base's metric windows (here its burst) are columns of every row, the same figures as the
// run's summary; an infeasible row leaves them empty and keeps the column count.
TEST(SweepLibrary, MetricWindowsAreColumns) {
  const auto dir = test::scratch("whatif-sweep-windows");
  Json base = test::tiny_cluster_scenario();
  base["workload"]["synthetic"]["duration_s"] = 5;
  base["workload"]["bursts"] = Json::parse(R"([{"start_s": 2, "duration_s": 1, "multiplier": 3}])");
  test::write_file(
      dir / "sweep.json",
      Json{{"name", "t"}, {"base", base}, {"grid", {{"deployment.tp", {1, 3}}}}, {"outputs", {"summary"}}}.dump());
  const SweepSpec spec = load_sweep((dir / "sweep.json").string());
  EXPECT_EQ(spec.windows, std::vector<std::string>{"burst"});
  const std::string header = sweep_csv_header(spec);
  EXPECT_NE(header.find(",burst.arrived,burst.ttft_p50_s,burst.ttft_p99_s,"), std::string::npos) << header;
  EXPECT_NE(header.find("burst.slo_attainment,status,kunsim"), std::string::npos) << header;
  SweepOptions opt;
  opt.progress = false;
  opt.out_dir = (dir / "o").string();
  const std::vector<SweepRow> rows = run_sweep(spec, opt);
  ASSERT_EQ(rows.size(), 2u);
  auto cells = [](const std::string& line) {
    std::vector<std::string> c;
    std::string cur;
    bool quoted = false;
    for (char ch : line) {
      if (ch == '"')
        quoted = !quoted;
      else if (ch == ',' && !quoted)
        c.push_back(std::exchange(cur, ""));
      else
        cur += ch;
    }
    c.push_back(cur);
    return c;
  };
  const auto names = cells(header), ok = cells(rows[0].csv), bad = cells(rows[1].csv);
  ASSERT_EQ(ok.size(), names.size());
  ASSERT_EQ(bad.size(), names.size());
  const auto col = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  const Json s = Json::parse(test::read_file(dir / "o" / "run-00000" / "summary.json"));
  EXPECT_EQ(ok[col("burst.arrived")], s["windows"]["burst"]["requests"]["arrived"].dump());
  EXPECT_NEAR(std::stod(ok[col("burst.ttft_p99_s")]), s["windows"]["burst"]["ttft_s"]["p99"].get<double>(), 1e-5);
  EXPECT_EQ(bad[col("burst.ttft_p99_s")], "");
}

// One placement rule: 9 instances of TP1 outgrow the 2 nodes of 2 GPUs, and the point adds nodes
// as plan's probe of 9 instances does (5 nodes), where it once was infeasible.
TEST(SweepLibrary, APointOutgrowingTheClusterAddsNodesAsPlanDoes) {
  const auto dir = test::scratch("whatif-sweep-grow");
  const SweepSpec spec = load_sweep(write_sweep(dir, {{"deployment.instances", {9}}}).string());
  SweepOptions opt;
  opt.progress = false;
  opt.out_dir = (dir / "o").string();
  const std::vector<SweepRow> rows = run_sweep(spec, opt);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, SweepStatus::Ok) << rows[0].reason;
  EXPECT_EQ(rows[0].grown, "cluster.nodes 2 -> 5");
  const GrownScenario g = scenario_adding_nodes(spec.runs[0].scenario, TracePaths{});
  EXPECT_EQ(g.scenario.cluster.nodes, 5);
  EXPECT_EQ(SweepRow::unpacked(rows[0].packed()).grown, rows[0].grown);
}

TEST(SweepLibrary, ARowCrossesRanksIntact) {
  const SweepRow row{7, SweepStatus::Infeasible, "a reason, with \"quotes\"\nand a newline", "7,99,\"x\"", ""};
  const std::string packed = row.packed();
  EXPECT_EQ(packed.find('\n'), std::string::npos) << "one line";
  const SweepRow back = SweepRow::unpacked(packed);
  EXPECT_EQ(back.index, 7u);
  EXPECT_EQ(back.status, SweepStatus::Infeasible);
  EXPECT_EQ(back.reason, row.reason);
  EXPECT_EQ(back.csv, row.csv);
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

std::string load_error(const std::filesystem::path& file, bool force = false) {
  try {
    load_sweep(file.string(), force);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

// A point that fails only once it runs (a bad trace row past the first, no arrival before
// max_time_s) is an infeasible row like one refused up front, not an aborted sweep.
TEST(SweepLibrary, APointThatFailsWhileRunningIsInfeasible) {
  const auto dir = test::scratch("whatif-sweep-run-error");
  test::write_file(dir / "good.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,4\n0.5,100,4\n");
  test::write_file(dir / "bad.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,4\n0.5,abc,4\n");
  Json base = test::tiny_cluster_scenario();
  base["workload"] = {{"trace", {{"format", "vidur"}, {"path", "good.csv"}}}};
  const Json s = {{"name", "t"},
                  {"base", base},
                  {"outputs", Json::array()},
                  {"grid",
                   {{"workload.trace.path", {(dir / "good.csv").string(), (dir / "bad.csv").string()}},
                    {"sim.max_time_s", {0.001, 10}}}}};
  test::write_file(dir / "sweep.json", s.dump());
  SweepOptions opt;
  opt.progress = false;
  const std::vector<SweepRow> rows = run_sweep(load_sweep((dir / "sweep.json").string()), opt);
  // Rows by (max_time_s, path), the path fastest; the bad trace's row 3 is read while running.
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].status, SweepStatus::Ok);
  EXPECT_EQ(rows[2].status, SweepStatus::Ok);
  for (std::size_t i : {1u, 3u}) {
    EXPECT_EQ(rows[i].status, SweepStatus::Infeasible);
    EXPECT_NE(rows[i].reason.find("bad.csv:3: prompt tokens"), std::string::npos) << rows[i].reason;
  }
  // And a point whose run stops before its first arrival (a synthetic one, at 1 ms).
  Json quick = test::tiny_cluster_scenario();
  quick["sim"] = {{"max_time_s", 0.001}};
  test::write_file(
      dir / "quick.json",
      Json({{"name", "q"}, {"base", quick}, {"outputs", Json::array()}, {"grid", {{"seed", {1, 2}}}}}).dump());
  for (const SweepRow& r : run_sweep(load_sweep((dir / "quick.json").string()), opt)) {
    EXPECT_EQ(r.status, SweepStatus::Infeasible);
    EXPECT_NE(r.reason.find("sim.max_time_s: the run stops at 0.001 s"), std::string::npos) << r.reason;
  }
}

TEST(SweepLibrary, AKeyInGridAndZipAndTooManyPointsAreRefused) {
  const auto dir = test::scratch("whatif-sweep-limits");
  EXPECT_EQ(load_error(write_sweep(dir, {{"seed", {1, 2}}}, {{"seed", {3, 4}}})),
            "zip.seed: the key is also in grid; a key is varied one way");
  Json big = Json::array();
  for (int i = 0; i < 101; ++i) big.push_back(i + 1);
  const auto file = write_sweep(dir, {{"seed", big}, {"deployment.instances", Json::array({1, 2})}},
                                {{"workload.synthetic.rate", Json(std::vector<int>(50, 5))}});
  EXPECT_NE(load_error(file).find("the grid and zip make 10100 runs, past the limit of 10000"), std::string::npos)
      << load_error(file);
  EXPECT_EQ(load_error(file, /*force=*/true), "(no error)");
}

}  // namespace
}  // namespace kunsim
