// What-if tools: sweeps (identical results for any -j, one folder per run, runs validated
// first) and capacity planning (the bisection's answer meets the target, one less does not).
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace kunsim {
namespace {

using test::read_file;
using test::scratch;
using test::write_file;

using test::run_kunsim;

std::filesystem::path small_sweep(const std::filesystem::path& dir, const Json& grid, const Json& zip = nullptr) {
  Json base = test::tiny_cluster_scenario();
  base["workload"]["synthetic"]["duration_s"] = 10;
  Json s = {{"name", "t"}, {"base", base}, {"grid", grid}};
  if (!zip.is_null()) s["zip"] = zip;
  s["outputs"] = {"summary", "decisions", "timeline"};
  write_file(dir / "sweep.json", s.dump(2));
  return dir / "sweep.json";
}

TEST(Sweep, SameCsvForAnyJobsAndOneFolderPerRun) {
  const auto dir = scratch("sweep");
  const auto f = small_sweep(dir, {{"policy.name", {"vllm", "kunserve"}}, {"workload.synthetic.rate", {10, 40}}},
                             {{"deployment.instances", {2, 4}}, {"seed", {1, 2}}});
  std::string log;
  ASSERT_EQ(run_kunsim("sweep " + f.string() + " -j 1 --quiet --out " + (dir / "a").string(), &log), 0) << log;
  ASSERT_EQ(run_kunsim("sweep " + f.string() + " -j 2 --quiet --out " + (dir / "b").string(), &log), 0) << log;
  const std::string csv = read_file(dir / "a" / "sweep.csv");
  EXPECT_EQ(csv, read_file(dir / "b" / "sweep.csv"));
  // 2 x 2 grid x 2 zipped rows = 8 runs; columns: grid keys (sorted), then zip keys.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9);
  EXPECT_EQ(csv.rfind("run,policy.name,workload.synthetic.rate,deployment.instances,seed,arrived,", 0), 0u) << csv;
  EXPECT_NE(csv.find("\n7,kunserve,40,4,2,"), std::string::npos) << "last run: last grid values, last zip row";
  for (const char* run : {"run-00000", "run-00007"})
    for (const char* file : {"summary.json", "decisions.jsonl", "timeline.csv"})
      EXPECT_TRUE(std::filesystem::exists(dir / "a" / run / file)) << run << "/" << file;
  EXPECT_FALSE(std::filesystem::exists(dir / "a" / "run-00000" / "requests.csv")) << "not asked for";
}

TEST(Sweep, ImpossiblePointsAreRecordedAndMalformedSweepsStopIt) {
  const auto dir = scratch("sweep-bad");
  std::string log;
  // 9,999 instances would add nodes (as plan does) past the most a cluster may have.
  auto f = small_sweep(dir, {{"deployment.instances", {2, 9999}}});
  EXPECT_EQ(run_kunsim("sweep " + f.string() + " --quiet --out " + (dir / "o").string(), &log), 0) << log;
  EXPECT_NE(read_file(dir / "o" / "sweep.csv")
                .find("\"infeasible: deployment.instances: 9999 instances x tp 1 need 9999 GPUs"),
            std::string::npos)
      << read_file(dir / "o" / "sweep.csv");
  EXPECT_NE(read_file(dir / "o" / "sweep.csv").find("past the 4096 a cluster may have"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir / "o" / "run-00000"));
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "run-00001")) << "an impossible point does not run";
  f = small_sweep(dir, {{"seed", {1}}}, {{"seed", {1, 2}}, {"deployment.instances", {1}}});
  EXPECT_EQ(run_kunsim("sweep " + f.string() + " --quiet --out " + (dir / "o").string(), &log), 2);
  EXPECT_NE(log.find("zip.seed: 2 values, but zip.deployment.instances has 1"), std::string::npos) << log;
}

// The search itself is tested in tests/whatif/plan_test.cpp; here, the command around it.
TEST(Plan, TheCommandWritesPlanJsonAndItsTable) {
  const auto dir = scratch("plan");
  Json s = test::tiny_cluster_scenario();
  s["workload"]["synthetic"]["rate"] = 60;
  s["slo"] = {{"ttft_s", 0.5}, {"tpot_s", 0.1}};
  write_file(dir / "s.json", s.dump());
  std::string log;
  ASSERT_EQ(run_kunsim("plan " + (dir / "s.json").string() + " --target 0.95 --vary deployment.instances --out " +
                       (dir / "plan").string(), &log), 0) << log;
  const Json plan = Json::parse(read_file(dir / "plan" / "plan.json"));
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << plan.dump(2);
  EXPECT_GT(r["value"].get<long long>(), 1) << "60 req/s is more than one instance carries at this SLO";
  EXPECT_FALSE(r["probes"].empty());
  EXPECT_NE(log.find("fewest instances meeting the target"), std::string::npos) << log;
  EXPECT_NE(log.find("wrote " + (dir / "plan").string() + "/plan.json"), std::string::npos) << log;
}

// kunsim report draws with matplotlib, from a python3 on PATH or Debian's.
bool report_can_draw() {
  return std::system("python3 -c 'import matplotlib' >/dev/null 2>&1") == 0 ||
         std::system("/usr/bin/python3 -c 'import matplotlib' >/dev/null 2>&1") == 0;
}

TEST(Report, DrawsRunsSweepsAndPlansIntoOneSelfContainedPage) {
  if (!report_can_draw()) GTEST_SKIP() << "python3-matplotlib is not installed; kunsim report cannot draw";
  const auto dir = scratch("report");
  const auto f = small_sweep(dir, {{"policy.name", {"vllm", "kunserve"}}, {"workload.synthetic.rate", {10, 40}}});
  std::string log;
  ASSERT_EQ(run_kunsim("sweep " + f.string() + " -j 2 --quiet --out " + (dir / "s").string(), &log), 0) << log;
  ASSERT_EQ(run_kunsim("report " + (dir / "s").string(), &log), 0) << log;
  const std::string page = read_file(dir / "s" / "report.html");
  std::size_t images = 0;
  for (std::size_t at = 0; (at = page.find("<img src=\"data:image/png;base64,", at)) != std::string::npos; ++at) ++images;
  // Latency CDFs need requests.csv (not in this sweep's outputs): 4 timelines + 4 sweep charts.
  EXPECT_EQ(images, 8u) << log;
  EXPECT_NE(page.find("<table>"), std::string::npos);
  EXPECT_EQ(page.find("src=\"http"), std::string::npos) << "self-contained: nothing fetched";
  std::filesystem::create_directories(dir / "empty");
  EXPECT_EQ(run_kunsim("report " + (dir / "empty").string(), &log), 2);
  EXPECT_NE(log.find("no kunsim outputs"), std::string::npos) << log;
}

// The loop a user closes with their own benchmark: a --save-detailed result (here kunsim's own
// vllm-bench.json, with the serve and bench lines and the GPU added, as a user adds them to
// vLLM's), replayed by replay-bench request by request (a ShareGPT run: only its arrays say what
// was sent), then drawn by report.
TEST(Report, DrawsAReplayOfADetailedBenchmark) {
  if (!report_can_draw()) GTEST_SKIP() << "python3-matplotlib is not installed; kunsim report cannot draw";
  const auto dir = scratch("report-replay");
  Json sc = test::tiny_cluster_scenario();
  sc["cluster"] = {{"gpu", "h100-sxm"}, {"nodes", 1}, {"gpus_per_node", 8}};
  sc["deployment"]["instances"] = 1;
  sc["workload"] = {{"synthetic",
                     {{"rate", "inf"},
                      {"input_tokens", {{"type", "uniform"}, {"min", 100}, {"max_value", 900}}},
                      {"output_tokens", {{"type", "uniform"}, {"min", 10}, {"max_value", 90}}}}},
                    {"max_requests", 40}};
  write_file(dir / "s.json", sc.dump());
  std::string log;
  ASSERT_EQ(run_kunsim("run " + (dir / "s.json").string() + " --save-detailed --no-wall-clock --quiet --out " +
                           (dir / "run").string(),
                       &log),
            0)
      << log;
  Json saved = Json::parse(read_file(dir / "run" / "vllm-bench.json"));
  ASSERT_EQ(saved["input_lens"].size(), 40u);
  saved["id"] = "own";
  saved["gpu"] = "h100-sxm";
  saved["serve"] = "vllm serve meta-llama/Meta-Llama-3-8B";
  saved["bench"] = "vllm bench serve --dataset-name sharegpt --dataset-path sg.json --num-prompts 40";
  std::filesystem::create_directories(dir / "records");
  write_file(dir / "records" / "own.json", saved.dump());
  saved["id"] = "own again";
  write_file(dir / "records" / "second.json", saved.dump());
  // A folder of records is one table.
  ASSERT_EQ(run_kunsim("replay-bench " + (dir / "records").string() + " --out " + (dir / "v").string(), &log), 0)
      << log;
  const Json v = Json::parse(read_file(dir / "v" / "validation.json"));
  ASSERT_EQ(v["records"].size(), 2u);
  EXPECT_EQ(v["records"][1]["id"], "own again");
  EXPECT_EQ(v["records"][0]["kunsim"], v["records"][1]["kunsim"]) << "the same record, the same replay";
  EXPECT_EQ(v["records"][0]["scenario"]["workload"]["synthetic"]["input_tokens"]["lengths"], saved["input_lens"]);
  EXPECT_TRUE(v["records"][0]["mape"].is_number()) << log;
  ASSERT_EQ(run_kunsim("report " + (dir / "v").string(), &log), 0) << log;
  const std::string page = read_file(dir / "v" / "report.html");
  EXPECT_NE(page.find("<h2>Replayed benchmarks</h2>"), std::string::npos);
  EXPECT_NE(page.find("<td>own</td>"), std::string::npos);
  EXPECT_NE(page.find("<img src=\"data:image/png;base64,"), std::string::npos) << "the error grid";
}

// Every run of a sweep is in every chart (12 a chart, then further charts), labelled by its swept
// values, which are columns of the run table; the title is the folder's name.
TEST(Report, ShowsEveryRunLabelledBySweptValues) {
  if (!report_can_draw()) GTEST_SKIP() << "python3-matplotlib is not installed; kunsim report cannot draw";
  const auto dir = scratch("report-all");
  Json base = test::tiny_cluster_scenario();
  base["workload"]["synthetic"]["duration_s"] = 3;
  write_file(dir / "sweep.json", Json{{"name", "t"}, {"base", base}, {"grid", {{"seed", {1, 2, 3, 4, 5, 6, 7}},
                                      {"policy.name", {"vllm", "kunserve"}}}}, {"outputs", {"summary", "requests"}}}.dump());
  std::string log;
  ASSERT_EQ(run_kunsim("sweep " + (dir / "sweep.json").string() + " -j 2 --quiet --out " + (dir / "s14").string(), &log), 0)
      << log;
  ASSERT_EQ(run_kunsim("report " + (dir / "s14").string(), &log), 0) << log;
  const std::string page = read_file(dir / "s14" / "report.html");
  EXPECT_NE(page.find("<h1>kunsim report: s14</h1>"), std::string::npos);
  EXPECT_NE(page.find("<th>policy.name</th><th>seed</th>"), std::string::npos);
  EXPECT_NE(page.find("run-00013"), std::string::npos) << "the 14th run is in the table";
  std::size_t images = 0;
  for (std::size_t at = 0; (at = page.find("<img src=\"data:image/png;base64,", at)) != std::string::npos; ++at) ++images;
  // 14 runs: TTFT and TPOT CDFs on 2 pages each; the sweep's 2 series per metric on one chart each.
  EXPECT_EQ(images, 4u + 4u) << log;
  ASSERT_EQ(run_kunsim("report " + (dir / "s14" / "run-00000").string(), &log), 0) << log;
  EXPECT_NE(read_file(dir / "s14" / "run-00000" / "report.html").find("<h1>kunsim report: run-00000</h1>"),
            std::string::npos);
}

#ifdef KUNSIM_MPIRUN
TEST(Sweep, TwoMpiRanksWriteTheSameCsvAsOneProcess) {
  const auto dir = scratch("mpi");
  const auto f = small_sweep(dir, {{"policy.name", {"vllm", "llumnix", "kunserve"}}, {"seed", {1, 2, 3}}});
  std::string log;
  ASSERT_EQ(run_kunsim("sweep " + f.string() + " --quiet --out " + (dir / "one").string(), &log), 0) << log;
  // Under the ASan preset, Open MPI's plugins leak at exit after they are unloaded (no name
  // to suppress): leak checking is off for the ranks; every other ASan check stays on.
  const std::string mpirun = "ASAN_OPTIONS=detect_leaks=0 " + std::string(KUNSIM_MPIRUN) +
                             " --allow-run-as-root --oversubscribe -n 2 " + KUNSIM_BIN +
                             " sweep " + f.string() + " --quiet --out " + (dir / "two").string() + " 2>&1";
  ASSERT_EQ(std::system(mpirun.c_str()), 0);
  EXPECT_EQ(read_file(dir / "one" / "sweep.csv"), read_file(dir / "two" / "sweep.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "two" / "run-00008" / "summary.json")) << "rank 0 ran it";
  EXPECT_TRUE(std::filesystem::exists(dir / "two" / "run-00007" / "summary.json")) << "rank 1 ran it";
}
#endif

}  // namespace
}  // namespace kunsim
