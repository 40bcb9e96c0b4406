// Output folders are replaced whole or not at all: a failed run leaves no new file and an
// earlier folder intact, a used folder keeps no stale file, and a folder kunsim did not write is
// refused unless --overwrite is given.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

// A vidur trace of `rows` requests, the row at `bad_line` (1-based, header = 1) broken.
fs::path write_trace(const fs::path& dir, int rows, int bad_line) {
  std::string text = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
  for (int i = 0; i < rows; ++i)
    text += i + 2 == bad_line ? "oops,1,1\n" : std::to_string(0.05 * i) + ",200,20\n";
  test::write_file(dir / "trace.csv", text);
  return dir / "trace.csv";
}

fs::path write_scenario(const fs::path& dir, const fs::path& trace) {
  Json j = test::tiny_cluster_scenario();
  j["workload"] = {{"trace", {{"format", "vidur"}, {"path", trace.string()}}}};
  test::write_file(dir / "scenario.json", j.dump());
  return dir / "scenario.json";
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(OutputFolder, AFailedRunLeavesTheEarlierFolderAsItWas) {
  const fs::path dir = test::scratch("outputs-failed");
  const fs::path good = write_scenario(dir / "good", write_trace(dir / "good", 100, 0));
  const fs::path out = dir / "out";
  std::string log;
  ASSERT_EQ(test::run_kunsim("run " + good.string() + " --out " + out.string() + " --quiet", &log), 0) << log;
  const auto before = listing(out);
  const std::string summary = test::read_file(out / "summary.json");
  EXPECT_NE(std::find(before.begin(), before.end(), ".kunsim-output"), before.end());
  // The trace breaks at line 90, after the run has started writing its CSVs.
  const fs::path bad = write_scenario(dir / "bad", write_trace(dir / "bad", 100, 90));
  EXPECT_EQ(test::run_kunsim("run " + bad.string() + " --out " + out.string() + " --quiet", &log), 2);
  EXPECT_NE(log.find("trace.csv:90"), std::string::npos) << log;
  EXPECT_EQ(listing(out), before);
  EXPECT_EQ(test::read_file(out / "summary.json"), summary);
  for (const auto& name : listing(dir)) EXPECT_EQ(name.find("kunsim-tmp"), std::string::npos) << name;
  // Into a fresh folder, a failed run leaves nothing at all.
  EXPECT_EQ(test::run_kunsim("run " + bad.string() + " --out " + (dir / "fresh").string() + " --quiet", &log), 2);
  EXPECT_FALSE(fs::exists(dir / "fresh"));
}

TEST(OutputFolder, AUsedFolderKeepsNoStaleFile) {
  const fs::path dir = test::scratch("outputs-stale");
  const fs::path scenario = write_scenario(dir, write_trace(dir, 50, 0));
  const fs::path out = dir / "out";
  std::string log;
  ASSERT_EQ(test::run_kunsim("run " + scenario.string() + " --out " + out.string() + " --quiet --perfetto", &log), 0) << log;
  ASSERT_TRUE(fs::exists(out / "trace.json"));
  ASSERT_EQ(test::run_kunsim("run " + scenario.string() + " --out " + out.string() + " --quiet", &log), 0) << log;
  EXPECT_FALSE(fs::exists(out / "trace.json")) << "the earlier run's trace.json must not survive";
}

TEST(OutputFolder, AFolderKunsimDidNotWriteIsRefusedUnlessOverwritten) {
  const fs::path dir = test::scratch("outputs-foreign");
  const fs::path scenario = write_scenario(dir, write_trace(dir, 20, 0));
  test::write_file(dir / "mine" / "notes.txt", "a user's file\n");
  std::string log;
  EXPECT_EQ(test::run_kunsim("run " + scenario.string() + " --out " + (dir / "mine").string(), &log), 2);
  EXPECT_NE(log.find("not written by kunsim"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir / "mine" / "notes.txt"));
  EXPECT_EQ(test::run_kunsim("run " + scenario.string() + " --out " + (dir / "mine").string() + " --overwrite --quiet", &log), 0)
      << log;
  EXPECT_FALSE(fs::exists(dir / "mine" / "notes.txt"));
  EXPECT_TRUE(fs::exists(dir / "mine" / "summary.json"));
}

TEST(OutputFolder, ASweepIntoAUsedFolderReplacesItsRuns) {
  const fs::path dir = test::scratch("outputs-sweep");
  const fs::path scenario = write_scenario(dir, write_trace(dir, 20, 0));
  auto sweep = [&](int runs) {
    Json seeds = Json::array();
    for (int i = 1; i <= runs; ++i) seeds.push_back(i);
    test::write_file(dir / "sweep.json", Json{{"name", "s"}, {"base", scenario.string()}, {"grid", {{"seed", seeds}}}}.dump());
    std::string log;
    EXPECT_EQ(test::run_kunsim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string() + " --quiet", &log), 0)
        << log;
  };
  sweep(4);
  EXPECT_TRUE(fs::exists(dir / "out" / "run-00003"));
  sweep(2);
  EXPECT_TRUE(fs::exists(dir / "out" / "run-00001"));
  EXPECT_FALSE(fs::exists(dir / "out" / "run-00003")) << "runs of the earlier sweep must not be mixed in";
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

TEST(HonestInputs, AnEmptyWorkloadIsAnInputErrorInRunAndValidate) {
  const std::filesystem::path dir = test::scratch("empty-workload");
  const auto scenario = write_scenario(dir, write_trace(dir, 0, 0));  // a header and no row
  std::string log;
  for (const std::string& cmd : {"run --out " + (dir / "o").string() + " ", std::string("validate ")}) {
    EXPECT_EQ(test::run_kunsim(cmd + scenario.string(), &log), 2) << cmd;
    EXPECT_NE(log.find("yields no request: the trace has no data rows"), std::string::npos) << log;
  }
  // A window past the workload's end empties it too, and says so.
  EXPECT_EQ(test::run_kunsim("run --set workload.window.start_s=100000 --out " + (dir / "w").string(), &log), 2);
  EXPECT_NE(log.find("workload.window starts at 100000 s"), std::string::npos) << log;
  // validate reads the whole trace: a bad row near the end is found before any run.
  const auto bad = write_scenario(dir / "bad", write_trace(dir / "bad", 300, 290));
  EXPECT_EQ(test::run_kunsim("validate " + bad.string(), &log), 2);
  EXPECT_NE(log.find("trace.csv:290"), std::string::npos) << log;
}

TEST(HonestInputs, DeepNestingAndFoldersAreNamedNotCrashedOn) {
  const std::filesystem::path dir = test::scratch("deep-json");
  test::write_file(dir / "deep.json", "{\"name\": " + std::string(200000, '[') + std::string(200000, ']') + "}");
  std::string log;
  EXPECT_EQ(test::run_kunsim("validate " + (dir / "deep.json").string(), &log), 2);
  EXPECT_NE(log.find("deep.json:1: JSON nested deeper than 128 levels"), std::string::npos) << log;
  EXPECT_EQ(test::run_kunsim("run " + (dir / "deep.json").string() + " --out " + (dir / "o").string(), &log), 2);
  EXPECT_EQ(test::run_kunsim("validate " + dir.string(), &log), 2);
  EXPECT_NE(log.find("is a folder, not a JSON file"), std::string::npos) << log;
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

TEST(HonestInputs, ASweepRecordsPointsThatCannotRunAndGoesOn) {
  const std::filesystem::path dir = test::scratch("sweep-infeasible");
  Json base = test::tiny_cluster_scenario();
  test::write_file(dir / "base.json", base.dump());
  // llama-3-70b does not fit one H100: recorded, while llama-3-8b runs.
  test::write_file(dir / "s.json", Json{{"name", "s"}, {"base", (dir / "base.json").string()},
                                        {"grid", {{"model", {"llama-3-8b", "llama-3-70b"}}}}}.dump());
  std::string log;
  ASSERT_EQ(test::run_kunsim("sweep " + (dir / "s.json").string() + " --out " + (dir / "out").string() + " --quiet", &log), 0)
      << log;
  const std::string csv = test::read_file(dir / "out" / "sweep.csv");
  EXPECT_NE(csv.find(",status,kunsim\n"), std::string::npos);
  EXPECT_NE(csv.find("\n0,llama-3-8b,"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",ok,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n1,llama-3-70b,,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("infeasible: deployment: llama-3-70b with tp=1 does not fit"), std::string::npos) << csv;
  // When no point can run, the sweep is an input error and writes nothing.
  test::write_file(dir / "none.json", Json{{"name", "n"}, {"base", (dir / "base.json").string()},
                                           {"grid", {{"model", {"llama-3-70b"}}}}}.dump());
  EXPECT_EQ(test::run_kunsim("sweep " + (dir / "none.json").string() + " --out " + (dir / "none").string() + " --quiet", &log), 2);
  EXPECT_NE(log.find("no point could run"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir / "none"));
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

TEST(HonestInputs, SettingsVllmWouldRefuseAreRefused) {
  auto refused = [](const std::string& args, const std::string& message) {
    std::string log;
    EXPECT_EQ(test::run_kunsim(args, &log), 2) << args;
    EXPECT_NE(log.find(message), std::string::npos) << log;
  };
  const std::string src = std::string(KUNSIM_SOURCE_DIR) + "/";
  refused("validate " + src + "scenarios/default.json --set deployment.block_size=7",
          "deployment.block_size: 7 is not a block size vLLM accepts");
  refused("validate " + src + "scenarios/default.json --set model=llama-3-8b --set deployment.max_model_len=16000",
          "deployment.max_model_len: 16000 exceeds llama-3-8b's context of 8192 tokens");
  refused("validate " + src + "scenarios/bench/1m.json --set workload.synthetic.input_tokens.max=200000",
          "workload.synthetic.input_tokens.max: 200000 exceeds max_model_len 131072 (llama-3.1-8b)");
  refused("plan --min 5 --max 1 --vary workload.rate_scale", "--min/--max: --min 5 is above --max 1");
}

TEST(HonestInputs, ClippedLengthsAndTheModelsContextAreReported) {
  Json j = test::tiny_cluster_scenario();
  j["workload"]["synthetic"]["input_tokens"] = {{"type", "uniform"}, {"min", 100}, {"max_value", 2000}, {"max", 1000}};
  const Json s = test::run_scenario(j);
  // About half the uniform draws over [100, 2000] exceed 1000 and are cut to it: counted.
  const auto clipped = s["workload"]["clipped_samples"].get<std::int64_t>();
  const auto arrived = s["requests"]["arrived"].get<std::int64_t>();
  EXPECT_GT(clipped, arrived * 4 / 10);
  EXPECT_LT(clipped, arrived * 6 / 10);
  // llama-3-8b's native 8k context is the default max_model_len: longer requests are rejected.
  j = test::tiny_cluster_scenario();
  j["workload"]["synthetic"]["input_tokens"] = {{"type", "fixed"}, {"value", 9000}};
  j["workload"]["synthetic"]["duration_s"] = 2;
  const Json r = test::run_scenario(j);
  EXPECT_EQ(r["requests"]["rejected"], r["requests"]["arrived"]);
  j["model"] = "llama-3.1-8b";
  EXPECT_EQ(test::run_scenario(j)["requests"]["rejected"], 0);
}

TEST(HonestInputs, VersionIsPrintedAndRecorded) {
  std::string log;
  EXPECT_EQ(test::run_kunsim("--version", &log), 0);
  EXPECT_EQ(log.rfind("kunsim 0.", 0), 0u) << log;
  const Json s = test::run_scenario(test::tiny_cluster_scenario());
  EXPECT_FALSE(s["kunsim"]["version"].get<std::string>().empty());
  EXPECT_FALSE(s["kunsim"]["git"].get<std::string>().empty());
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

// Goodput and vllm-bench.json, counted by hand from requests.csv.
TEST(BenchMetrics, GoodputAndVllmBenchJsonMatchAHandCount) {
  const std::filesystem::path dir = test::scratch("bench-metrics");
  Json j = test::tiny_cluster_scenario();
  j["slo"] = {{"ttft_s", 0.08}, {"tpot_s", 0.009}};  // tight: some requests miss
  const Json s = test::run_scenario(j, dir);
  std::istringstream csv(test::read_file(dir / "requests.csv"));
  std::string line;
  std::getline(csv, line);  // id,arrival_s,instance,prompt_tokens,output_tokens,generated_tokens,status,queue_s,ttft_s,tpot_s,e2e_s,...
  std::int64_t completed = 0, met = 0, in = 0, out = 0;
  double first = 1e300, last = 0, ttft_sum = 0;
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
    if (f[6] != "finished") continue;
    ++completed;
    const double arrival = std::stod(f[1]), ttft = std::stod(f[8]), e2e = std::stod(f[10]);
    const double tpot = f[9].empty() ? 0 : std::stod(f[9]);
    in += std::stoll(f[3]);
    out += std::stoll(f[4]);
    ttft_sum += ttft;
    first = std::min(first, arrival);
    last = std::max(last, arrival + e2e - 0.02);  // the engine's finish, without the front end
    if (ttft <= 0.08 && tpot <= 0.009) ++met;
  }
  ASSERT_GT(completed, 100);
  ASSERT_GT(met, 0);
  ASSERT_LT(met, completed);
  const double span = last - first;
  EXPECT_EQ(s["goodput"]["requests"], met);
  EXPECT_NEAR(s["goodput"]["requests_per_s"].get<double>(), met / span, 2e-3);
  const Json b = Json::parse(test::read_file(dir / "vllm-bench.json"));
  EXPECT_EQ(b["completed"], completed);
  EXPECT_EQ(b["total_input_tokens"], in);
  EXPECT_EQ(b["total_output_tokens"], out);
  EXPECT_NEAR(b["duration"].get<double>(), span, 1e-5);
  EXPECT_NEAR(b["request_goodput"].get<double>(), met / span, 1e-3);
  EXPECT_NEAR(b["output_throughput"].get<double>(), out / span, 0.05);
  EXPECT_NEAR(b["total_token_throughput"].get<double>(), (in + out) / span, 0.5);
  EXPECT_NEAR(b["mean_ttft_ms"].get<double>(), ttft_sum / completed * 1e3, 1e-3);
  EXPECT_NEAR(s["throughput"]["input_tokens_per_s"].get<double>(), in / span, 0.5);
  for (const char* k : {"std", "min", "p95"}) EXPECT_TRUE(s["ttft_s"].contains(k)) << k;
}

}  // namespace
}  // namespace kunsim

namespace kunsim {
namespace {

TEST(PlanUnits, MetricTargetsAnswerInGpusAndDollars) {
  const std::filesystem::path dir = test::scratch("plan-units");
  Json s = test::tiny_cluster_scenario();
  s["workload"]["synthetic"]["rate"] = 60;
  s["cluster"]["price_per_gpu_hour"] = {{"h100-sxm", 2.5}, {"a100-80g", 1.2}};
  test::write_file(dir / "s.json", s.dump());
  std::string log;
  ASSERT_EQ(test::run_kunsim("plan " + (dir / "s.json").string() + " --target 'ttft.p99<=0.5' --out " + (dir / "p").string(),
                             &log), 0) << log;
  EXPECT_NE(log.find("$/hour"), std::string::npos) << log;
  const Json plan = Json::parse(test::read_file(dir / "p" / "plan.json"));
  EXPECT_EQ(plan["target"], "ttft.p99<=0.5");
  EXPECT_EQ(plan["price_per_gpu_hour"], 2.5);
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << plan.dump(2);
  const auto n = r["value"].get<long long>();
  EXPECT_EQ(r["gpus"], n);  // TP 1
  EXPECT_DOUBLE_EQ(r["dollars_per_hour"].get<double>(), 2.5 * static_cast<double>(n));
  EXPECT_LE(r["target_value"].get<double>(), 0.5);
  // The chosen probe's output rate prices a million tokens; one instance fewer misses the bound.
  for (const Json& p : r["probes"]) {
    if (p["deployment.instances"] == n) {
      EXPECT_NEAR(r["dollars_per_million_output_tokens"].get<double>(),
                  2.5 * static_cast<double>(n) / (p["output_tokens_per_s"].get<double>() * 3600) * 1e6, 1e-9);
    }
    if (p["deployment.instances"] == n - 1) {
      EXPECT_FALSE(p["meets"].get<bool>());
    }
  }
  EXPECT_EQ(test::run_kunsim("plan --target 'itl.p42<=0.1'", &log), 2);
  EXPECT_NE(log.find("expected itl.STAT"), std::string::npos) << log;
  EXPECT_EQ(test::run_kunsim("plan --target 'goodput<=3'", &log), 2);
}

}  // namespace
}  // namespace kunsim
