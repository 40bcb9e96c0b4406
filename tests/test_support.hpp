// Shared helpers for tests: where the public traces are, a scratch folder, a small scenario
// builder (TinyCluster: 2 nodes x 2 H100s) and a runner that returns summary.json.
#pragma once
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "run/scenario.hpp"
#include "run/simulation.hpp"

namespace kunsim::test {

inline std::string shared_traces() {
  if (const char* env = std::getenv("KUNSIM_SHARED_TRACES")) return env;
  return KUNSIM_SHARED_TRACES;
}

// NVIDIA's raw aiconfigurator tables beside the checkout (../shared/measured/aiconfigurator), or
// KUNSIM_SHARED_MEASURED. kunsim itself never looks there: tests that need the raw tables pass
// this folder to it as KUNSIM_MEASURED_DIR, as a user would.
inline std::string shared_measured() {
  if (const char* env = std::getenv("KUNSIM_SHARED_MEASURED")) return env;
  return KUNSIM_SHARED_MEASURED;
}

// Skips the calling test (with a message) when the raw tables are not beside the checkout.
#define KUNSIM_REQUIRE_MEASURED()                                                                        \
  if (!std::filesystem::exists(::kunsim::test::shared_measured() + "/h100_sxm.yaml"))                     \
  GTEST_SKIP() << "aiconfigurator tables not found at " << ::kunsim::test::shared_measured()               \
               << " (set KUNSIM_SHARED_MEASURED); skipping the raw-table check"

// Skips the calling test (with a message) when the public traces are not checked out beside.
#define KUNSIM_REQUIRE_TRACES()                                                                          \
  if (!std::filesystem::exists(::kunsim::test::shared_traces() + "/azure_llm_2023"))                      \
  GTEST_SKIP() << "public traces not found at " << ::kunsim::test::shared_traces()                         \
               << " (set KUNSIM_SHARED_TRACES); skipping the real-trace check"

inline std::filesystem::path scratch_root() {
  return std::filesystem::temp_directory_path() / ("kunsim-test-" + std::to_string(::getpid()));
}

// Removes this test process's scratch folder when the tests end (kept, for a look at what a test
// wrote, where KUNSIM_KEEP_SCRATCH is set).
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    if (std::getenv("KUNSIM_KEEP_SCRATCH")) return;
    std::error_code ec;
    std::filesystem::remove_all(scratch_root(), ec);
  }
};
inline ::testing::Environment* const kScratchCleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

inline std::filesystem::path scratch(const std::string& name) {
  auto p = scratch_root() / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// H100 nodes with round link figures: NVLink 450 GB/s + 2 us, PCIe 64 GB/s + 5 us, RDMA 50 GB/s + 5 us.
inline ClusterSpec test_cluster(int nodes, int gpus_per_node) {
  ClusterSpec c;
  c.gpu = find_gpu("h100-sxm", "gpu");
  c.nodes = nodes;
  c.gpus_per_node = gpus_per_node;
  c.nvlink = {450e9, 2000};
  c.pcie = {64e9, 5000};
  c.network = {50e9, 5000};
  return c;
}

// 2 nodes x 2 H100s, llama-3-8b TP1 x 4 instances, a Poisson workload.
inline Json tiny_cluster_scenario() {
  return Json::parse(R"({
    "name": "tiny", "seed": 7, "model": "llama-3-8b",
    "cluster": {"gpu": "h100-sxm", "nodes": 2, "gpus_per_node": 2},
    "deployment": {"instances": 4, "tp": 1},
    "policy": {"name": "vllm"},
    "workload": {"synthetic": {"rate": 20, "duration_s": 30,
                 "input_tokens": {"type": "uniform", "min": 100, "max_value": 2000},
                 "output_tokens": {"type": "uniform", "min": 1, "max_value": 400}}}
  })");
}

// Runs `kunsim ARGS` (stderr folded into the output); returns its exit code.
// Runs the kunsim binary with `args`, returns its exit code; `env` is prepended as shell variable
// assignments (e.g. "KUNSIM_MEASURED_DIR=/x").
inline int run_kunsim(const std::string& args, std::string* output = nullptr, const std::string& env = "") {
  std::FILE* p = popen((env + (env.empty() ? "" : " ") + std::string(KUNSIM_BIN) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  std::string out;
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// What `kunsim ARGS` answered: its exit code and everything it printed (stderr folded in).
struct CliResult {
  int code = -1;
  std::string output;
};
inline CliResult cli(const std::string& args, const std::string& env = "") {
  CliResult r;
  r.code = run_kunsim(args, &r.output, env);
  return r;
}

// Bad input's contract: exit 2 and one line holding `message`.
inline void expect_bad_input(const CliResult& r, const std::string& message) {
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(message), std::string::npos) << "got: " << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
}

inline Json run_scenario(const Json& j, const std::filesystem::path& out = {}, bool wall_clock = false) {
  const Scenario sc = scenario_from_json(j, TracePaths{});
  Simulation sim(sc, RunOptions{.out_dir = out.string(), .wall_clock = wall_clock});
  return sim.run();
}

}  // namespace kunsim::test
