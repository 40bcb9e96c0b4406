// The shipped production-kernel profiles: regenerated from ../shared they are byte-identical to
// the committed ones, every GPU kind with one prices runs from it by default, and a scenario can
// name a profile.
#include <gtest/gtest.h>

#include "sim/cost/aiconfigurator_import.hpp"
#include "sim/cost/shipped_profiles.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

const char* const kKinds[][2] = {{"h100_sxm", "h100-sxm"}, {"h200_sxm", "h200"}, {"a100_sxm", "a100-80g"}, {"b200_sxm", "b200"}};

// Slow under the sanitizers (a few hundred thousand rows) and the same in every build: it runs
// in the Release build only.
TEST(ShippedProfiles, RegeneratingFromTheSharedTablesGivesTheCommittedFiles) {
#ifndef KUNSIM_REGEN_CHECK
  GTEST_SKIP() << "runs in the Release build only";
#else
  const fs::path db = fs::path(KUNSIM_SOURCE_DIR) / "../shared/measured/aiconfigurator";
  if (!fs::exists(db / "h100_sxm.yaml"))
    GTEST_SKIP() << "aiconfigurator tables not found at " << db << "; skipping the regeneration check";
  for (const auto& [system, kind] : kKinds) {
    const fs::path committed = fs::path(KUNSIM_SOURCE_DIR) / "calibrate/profiles" / kind / "aiconfigurator-vllm";
    const fs::path fresh = test::scratch(std::string("regen-") + kind) / "p";
    AiconfiguratorImport opt;
    opt.dir = db.string();
    opt.system = system;
    write_kernel_table_profile(fresh.string(), import_aiconfigurator(opt));
    for (const char* file : {"meta.json", "gemm.csv", "attn_prefill.csv", "attn_decode.csv", "allreduce.csv"})
      EXPECT_TRUE(test::read_file(fresh / file) == test::read_file(committed / file))
          << kind << "/" << file << " differs from a fresh import: run tools/import-profiles.sh";
  }
#endif
}

// The gate docs/fidelity.md reports: the interpolation reads every shipped table within 10%.
TEST(ShippedProfiles, FitWithinTenPercentOnEveryProfile) {
  for (const auto& [system, kind] : kKinds) {
    const fs::path profile = fs::path(KUNSIM_SOURCE_DIR) / "calibrate/profiles" / kind / "aiconfigurator-vllm";
    std::string log;
    EXPECT_EQ(test::run_kunsim("fit " + profile.string() + " --out " + test::scratch(std::string("fit-") + kind).string() +
                                   " --max-mape 10",
                               &log),
              0)
        << log;
  }
}

TEST(ShippedProfiles, EveryImportedKindIsPricedFromMeasurementsByDefault) {
  for (const auto& [system, kind] : kKinds) {
    Json j = test::tiny_cluster_scenario();
    j["cluster"]["gpu"] = kind;
    const Scenario sc = scenario_from_json(j, TracePaths{});
    EXPECT_EQ(sc.cost_model, "profile") << kind;
    ASSERT_TRUE(sc.profile) << kind;
    EXPECT_EQ(sc.profile->variant, "production-import");
    EXPECT_EQ(sc.cost_source.rfind("measured: ", 0), 0u) << sc.cost_source;
    EXPECT_NE(sc.cost_source.find("roofline: rmsnorm"), std::string::npos) << sc.cost_source;
  }
}

TEST(ShippedProfiles, AScenarioCanNameAProfileOrAFolder) {
  Json j = test::tiny_cluster_scenario();
  j["cost"] = {{"profile", "aiconfigurator-vllm"}};
  EXPECT_NE(scenario_from_json(j, TracePaths{}).cost_source.find("cost.profile=aiconfigurator-vllm"), std::string::npos);
  j["cost"] = {{"model", "profile"}, {"profile", (fs::path(KUNSIM_SOURCE_DIR) / "calibrate/profiles/h200/aiconfigurator-vllm").string()}};
  const Scenario folder = scenario_from_json(j, TracePaths{});
  EXPECT_NE(folder.cost_source.find("H200"), std::string::npos) << folder.cost_source;
  j["cost"] = {{"profile", "no-such-profile"}};
  try {
    scenario_from_json(j, TracePaths{});
    FAIL() << "an unknown profile must be an input error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cost.profile: \"no-such-profile\" is neither a shipped h100-sxm profile "
                                         "(aiconfigurator-vllm) nor a folder"),
              std::string::npos)
        << e.what();
  }
  j["cost"] = {{"model", "roofline"}};
  EXPECT_EQ(scenario_from_json(j, TracePaths{}).cost_source, "roofline (cost.model=roofline)");
}

}  // namespace
}  // namespace kunsim
