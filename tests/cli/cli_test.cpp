// The CLI contract: exit codes (0 ok, 2 bad input), one clear message naming the JSON path or
// file:line, and the output files of DESIGN.md.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "test_support.hpp"

namespace kunsim {
namespace {

using test::read_file;
using test::scratch;
using test::write_file;

using test::CliResult;
using test::expect_bad_input;

CliResult kunsim(const std::string& args) { return test::cli(args); }

// A valid scenario file with a 60 s window, in its own folder.
std::filesystem::path scenario_file(const std::string& name, const Json& patch = Json::object()) {
  const auto dir = scratch("cli-" + name);
  Json j = test::tiny_cluster_scenario();
  j["name"] = name;
  j.merge_patch(patch);
  write_file(dir / "s.json", j.dump(2));
  return dir / "s.json";
}

TEST(Cli, RunWritesTheContractFiles) {
  const auto f = scenario_file("files");
  const auto out = f.parent_path() / "out";
  const CliResult r = kunsim("run " + f.string() + " --out " + out.string() + " --quiet");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(r.output, "");
  for (const char* name : {"summary.json", "requests.csv", "timeline.csv", "decisions.jsonl", "scenario.json"})
    EXPECT_TRUE(std::filesystem::exists(out / name)) << name;
  const Json s = Json::parse(read_file(out / "summary.json"));
  for (const char* k : {"requests", "ttft_s", "tpot_s", "e2e_s", "queue_s", "slo", "throughput", "planner", "sim"})
    EXPECT_TRUE(s.contains(k)) << k;
  for (const char* k : {"mean", "p50", "p90", "p99", "p999", "max"}) EXPECT_TRUE(s["ttft_s"].contains(k)) << k;
  for (const char* k : {"events", "wall_s", "events_per_s", "simulated_s"}) EXPECT_TRUE(s["sim"].contains(k)) << k;
  EXPECT_EQ(s["planner"]["drops"], 0);
}

TEST(Cli, SetOverridesAndNoWallClockGiveIdenticalSummaries) {
  const auto f = scenario_file("set");
  const auto a = f.parent_path() / "a", b = f.parent_path() / "b";
  const std::string common = " --set deployment.instances=2 --set policy.name=vllm-swap --quiet --no-wall-clock";
  ASSERT_EQ(kunsim("run " + f.string() + " --out " + a.string() + common).code, 0);
  ASSERT_EQ(kunsim("run " + f.string() + " --out " + b.string() + common).code, 0);
  const Json s = Json::parse(read_file(a / "summary.json"));
  EXPECT_EQ(s["policy"], "vllm-swap");
  EXPECT_EQ(s["instances"].size(), 2u);
  for (const char* name : {"summary.json", "requests.csv", "timeline.csv", "decisions.jsonl"})
    EXPECT_EQ(read_file(a / name), read_file(b / name)) << name;
}

TEST(Cli, MalformedJsonNamesFileAndLine) {
  const auto dir = scratch("cli-malformed");
  write_file(dir / "s.json", "{\n  \"name\": \"x\",\n  \"seed\": ,\n}\n");
  expect_bad_input(kunsim("run " + (dir / "s.json").string()), (dir / "s.json").string() + ":3: malformed JSON");
}

TEST(Cli, UnknownAndMistypedKeysNameTheirPath) {
  expect_bad_input(kunsim("validate " + scenario_file("unk", {{"cluster", {{"gpu_per_node", 4}}}}).string()),
                   "kunsim: cluster.gpu_per_node: unknown key");
  expect_bad_input(kunsim("validate " + scenario_file("typ", {{"deployment", {{"instances", "four"}}}}).string()),
                   "kunsim: deployment.instances: expected integer in [1, 65536], got string \"four\"");
  expect_bad_input(kunsim("validate " + scenario_file("pol", {{"policy", {{"name", "magic"}}}}).string()),
                   "kunsim: policy.name: unknown policy \"magic\" (known: ");
  expect_bad_input(kunsim("validate " + scenario_file("set").string() + " --set slo.ttft_s=-1"),
                   "kunsim: slo.ttft_s: expected number in [0, 1e+06], got -1");
}

TEST(Cli, ImpossibleDeploymentsSayWhy) {
  expect_bad_input(kunsim("validate " + scenario_file("fit", {{"model", "llama-3-70b"}}).string()),
                   "kunsim: deployment: llama-3-70b with tp=1 does not fit: needs ");
  expect_bad_input(kunsim("validate " + scenario_file("gpus", {{"deployment", {{"instances", 5}}}}).string()),
                   "kunsim: deployment.instances: 5 instances x tp 1 need 5 GPUs, the cluster has 4");
}

TEST(Cli, MissingFilesAndBadTraceRows) {
  expect_bad_input(kunsim("run /nonexistent/s.json"), "kunsim: /nonexistent/s.json: JSON file not found");
  const auto f = scenario_file("trace", {{"workload", {{"synthetic", nullptr}, {"trace", {{"format", "vidur"}, {"path", "t.csv"}}}}}});
  expect_bad_input(kunsim("validate " + f.string()), "kunsim: workload.trace.path: trace file \"t.csv\" not found");
  write_file(f.parent_path() / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,10,2\n0.1,10,x\n");
  expect_bad_input(kunsim("run " + f.string() + " --quiet --out " + (f.parent_path() / "out").string()),
                   (f.parent_path() / "t.csv").string() + ":3: output tokens: expected an integer");
}

TEST(Cli, PerfettoTraceHasEngineLinkAndDecisionTracks) {
  const auto f = scenario_file("perfetto", {{"policy", {{"name", "vllm-swap"}}},
                                            {"deployment", {{"gpu_memory_utilization", 0.3}}},
                                            {"workload", {{"synthetic", {{"output_tokens", 800}}}}}});
  const auto out = f.parent_path() / "out";
  ASSERT_EQ(kunsim("run " + f.string() + " --out " + out.string() + " --quiet --perfetto").code, 0);
  const Json trace = Json::parse(read_file(out / "trace.json"));
  ASSERT_TRUE(trace["traceEvents"].is_array());
  std::map<int, int> slices;
  int instants = 0, thread_names = 0;
  for (const auto& e : trace["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("name")) << e.dump();
    const std::string ph = e["ph"];
    if (ph == "X") {
      ASSERT_GE(e["dur"].get<double>(), 0) << e.dump();
      ASSERT_GE(e["ts"].get<double>(), 0) << e.dump();
      ++slices[e["pid"].get<int>()];
    } else if (ph == "i") {
      ++instants;
    } else if (ph == "M" && e["name"] == "thread_name") {
      ++thread_names;
    }
  }
  EXPECT_GT(slices[1], 0) << "engine iterations";
  EXPECT_GT(slices[2], 0) << "swap transfers on PCIe links";
  const std::string log = read_file(out / "decisions.jsonl");
  EXPECT_EQ(instants, std::count(log.begin(), log.end(), '\n')) << "one instant event per decision";
  EXPECT_GT(thread_names, 4);
}

TEST(Cli, HostileScenarioFilesExitTwoWithOneLine) {
  const auto dir = scratch("cli-hostile");
  std::string binary;
  for (int i = 0; i < 4096; ++i) binary += static_cast<char>((i * 7919) % 256);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty.json", ""},
      {"binary.json", binary},
      {"utf8.json", "{\"name\": \"\xff\xfe\"}"},
      {"deep.json", std::string(100000, '[') + std::string(100000, ']')},
      {"unclosed.json", std::string(100000, '[')},
      {"array.json", "[1, 2]"},
      {"huge.json", "{\"seed\": 1e999}"},
      {"nan.json", "{\"seed\": NaN}"},
  };
  for (const auto& [name, text] : cases) {
    write_file(dir / name, text);
    const CliResult r = kunsim("validate " + (dir / name).string());
    EXPECT_EQ(r.code, 2) << name << ": " << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << name << ": " << r.output;
  }
  EXPECT_NE(kunsim("validate " + (dir / "array.json").string()).output.find("(top level): expected object, got array"),
            std::string::npos);
}

TEST(Cli, ListsModelsAndPolicies) {
  const CliResult m = kunsim("models");
  EXPECT_EQ(m.code, 0);
  EXPECT_NE(m.output.find("llama-3-70b"), std::string::npos);
  const CliResult p = kunsim("policies");
  EXPECT_EQ(p.code, 0);
  EXPECT_NE(p.output.find("vllm-swap"), std::string::npos);
  EXPECT_EQ(kunsim("frobnicate").code, 2);
}

TEST(Cli, TraceStatsWritesAReplayableProfile) {
  const auto dir = scratch("cli-stats");
  write_file(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,100,10\n0.5,200,20\n1.0,300,30\n");
  const CliResult r = kunsim("trace-stats " + (dir / "t.csv").string() + " --out " + (dir / "p.json").string());
  ASSERT_EQ(r.code, 0) << r.output;
  const Json p = Json::parse(read_file(dir / "p.json"));
  EXPECT_EQ(p["requests"], 3);
  EXPECT_EQ(p["input_tokens"]["quantiles"][50], 200.0);
  const auto f = scenario_file("profile", {{"workload", {{"synthetic", nullptr}, {"profile", (dir / "p.json").string()}}}});
  EXPECT_EQ(kunsim("validate " + f.string()).code, 0);
}

}  // namespace
}  // namespace kunsim
