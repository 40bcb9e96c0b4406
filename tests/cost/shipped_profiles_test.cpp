// The production-kernel profiles imported at run time from NVIDIA's aiconfigurator tables in
// ../shared (never committed): every GPU kind with tables is priced from them by default, reads
// within 10%, imports deterministically, and a scenario can name a profile. Each test skips with
// a message where the tables are absent.
#include <gtest/gtest.h>

#include "sim/cost/aiconfigurator_import.hpp"
#include "sim/cost/shipped_profiles.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

const char* const kKinds[] = {"h100-sxm", "h200", "a100-80g", "b200"};

#define KUNSIM_REQUIRE_MEASURED()                                                                    \
  if (!fs::exists(fs::path(aiconfigurator_dir()) / "h100_sxm.yaml"))                                \
  GTEST_SKIP() << "aiconfigurator tables not found at " << aiconfigurator_dir()                      \
               << " (set KUNSIM_MEASURED_DIR); skipping the measured-profile check"

// An import written out as a profile folder (kunsim import aiconfigurator), for kunsim fit.
fs::path imported_folder(const std::string& kind) {
  const fs::path out = test::scratch("imported-" + kind) / "aiconfigurator-vllm";
  if (!fs::exists(out)) {
    AiconfiguratorImport opt;
    opt.dir = aiconfigurator_dir();
    opt.system = aiconfigurator_system(kind);
    write_kernel_table_profile(out.string(), import_aiconfigurator(opt));
  }
  return out;
}

// Slow under the sanitizers (a few hundred thousand rows) and the same in every build: it runs
// in the Release build only.
TEST(ImportedProfiles, AnImportIsDeterministic) {
#ifndef KUNSIM_REGEN_CHECK
  GTEST_SKIP() << "runs in the Release build only";
#else
  KUNSIM_REQUIRE_MEASURED();
  for (const char* kind : kKinds) {
    const fs::path a = imported_folder(kind), b = test::scratch(std::string("again-") + kind) / "p";
    std::string log;
    ASSERT_EQ(test::run_kunsim("import aiconfigurator " + aiconfigurator_dir() + " --system " + aiconfigurator_system(kind) +
                                   " --out " + b.string(), &log), 0) << log;
    for (const char* file : {"meta.json", "gemm.csv", "attn_prefill.csv", "attn_decode.csv", "allreduce.csv"})
      EXPECT_TRUE(test::read_file(a / file) == test::read_file(b / file)) << kind << "/" << file;
  }
#endif
}

// The gate docs/fidelity.md reports: the interpolation reads every imported table within 10%.
TEST(ImportedProfiles, FitWithinTenPercentOnEveryProfile) {
  KUNSIM_REQUIRE_MEASURED();
  for (const char* kind : kKinds) {
    std::string log;
    EXPECT_EQ(test::run_kunsim("fit " + imported_folder(kind).string() + " --out " +
                                   test::scratch(std::string("fit-") + kind).string() + " --max-mape 10", &log), 0)
        << log;
  }
}

TEST(ImportedProfiles, EveryKindWithTablesIsPricedFromMeasurementsByDefault) {
  KUNSIM_REQUIRE_MEASURED();
  for (const char* kind : kKinds) {
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

TEST(ImportedProfiles, AScenarioCanNameAProfileOrAFolder) {
  Json j = test::tiny_cluster_scenario();
  j["cost"] = {{"profile", "no-such-profile"}};
  try {
    scenario_from_json(j, TracePaths{});
    FAIL() << "an unknown profile must be an input error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cost.profile: \"no-such-profile\" is neither a known h100-sxm profile"),
              std::string::npos)
        << e.what();
  }
  j["cost"] = {{"model", "roofline"}};
  EXPECT_EQ(scenario_from_json(j, TracePaths{}).cost_source, "roofline (cost.model=roofline)");
  KUNSIM_REQUIRE_MEASURED();
  j["cost"] = {{"profile", "aiconfigurator-vllm"}};
  EXPECT_NE(scenario_from_json(j, TracePaths{}).cost_source.find("cost.profile=aiconfigurator-vllm"), std::string::npos);
  j["cost"] = {{"model", "profile"}, {"profile", imported_folder("h200").string()}};
  const Scenario folder = scenario_from_json(j, TracePaths{});
  EXPECT_NE(folder.cost_source.find("H200"), std::string::npos) << folder.cost_source;
}

TEST(ImportedProfiles, WithoutTablesTheRooflineSaysWhereItLooked) {
  const Json j = test::tiny_cluster_scenario();  // h100-sxm
  const std::string dir = aiconfigurator_dir();
  if (fs::exists(fs::path(dir) / "h100_sxm.yaml")) GTEST_SKIP() << "the tables are present at " << dir;
  const Scenario sc = scenario_from_json(j, TracePaths{});
  EXPECT_EQ(sc.cost_model, "roofline");
  EXPECT_NE(sc.cost_source.find("set KUNSIM_MEASURED_DIR"), std::string::npos) << sc.cost_source;
}

}  // namespace
}  // namespace kunsim
