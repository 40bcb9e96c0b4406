// Every file under scenarios/ stays inside the limits of run/run_limits.hpp and whatif/sweep.hpp,
// checked as `kunsim validate` checks (the workload read to its end), none needing --force: a
// limit that a shipped bench or sweep needs lifting is a limit set too low.
#include <gtest/gtest.h>

#include "run/run_limits.hpp"
#include "test_support.hpp"
#include "whatif/sweep.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

TEST(ShippedScenarios, AllValidateWithinTheLimits) {
  const fs::path root = fs::path(KUNSIM_SOURCE_DIR) / "scenarios";
  const bool traces = fs::exists(test::shared_traces());
  int scenarios = 0, sweeps = 0, profiles = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".json") continue;
    const std::string file = entry.path().string();
    SCOPED_TRACE(file);
    const Json j = parse_json_file(file);
    if (j.value("kind", "") == "kunsim-workload-profile") {
      ++profiles;
      continue;
    }
    try {
      if (j.contains("base")) {
        const SweepSpec spec = load_sweep(file);
        for (const SweepRun& run : spec.runs) {
          std::optional<Scenario> sc;
          try {  // a point that cannot be deployed is a sweep's own infeasible row (tp4x4-vs-tp8x2 has
                 // some that do not fit, qwen3-235b-layout one whose split vLLM refuses)
            sc = scenario_from_json(run.scenario, trace_paths(test::shared_traces(), spec.base_dir));
          } catch (const InputError& e) {
            const std::string why = e.what();
            if (why.find("does not fit") == std::string::npos && why.find("vLLM requires") == std::string::npos) throw;
            continue;
          }
          check_run_limits(*sc, false);
        }
        ++sweeps;
      } else {
        check_scenario(load_scenario(file, {}, test::shared_traces()), false);
        ++scenarios;
      }
    } catch (const InputError& e) {
      // Without ../shared a trace-backed file cannot be read; every other error is a failure.
      const std::string w = e.what();
      if (!traces && w.find("not found (looked in") != std::string::npos) continue;
      ADD_FAILURE() << w;
    }
  }
  EXPECT_GE(scenarios, 12);
  EXPECT_GE(sweeps, 4);
  EXPECT_EQ(profiles, 3);
}

}  // namespace
}  // namespace kunsim
