// The production-kernel profiles: committed under calibrate/profiles/<kind>/aiconfigurator-vllm/
// (what `kunsim import aiconfigurator` derived from NVIDIA's tables), so a fresh clone prices every
// kind that has tables from measured kernels; and a start-up import where KUNSIM_MEASURED_DIR
// points at a copy of the tables. The committed profiles need nothing beside the checkout; the
// tests that import the raw tables skip with a message where ../shared is absent.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/cost/aiconfigurator_import.hpp"
#include "sim/cost/kernel_tables.hpp"
#include "sim/cost/shipped_profiles.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

const char* const kKinds[] = {"h100-sxm", "h200", "a100-80g", "b200"};
const char* const kProfileFiles[] = {"meta.json", "gemm.csv", "attn_prefill.csv", "attn_decode.csv", "allreduce.csv"};

// These tests are about what a run prices from with and without the variable: the in-process ones
// run without it, whatever the caller's environment holds.
class CommittedProfiles : public ::testing::Test {
 protected:
  void SetUp() override { ::unsetenv("KUNSIM_MEASURED_DIR"); }
};
using ImportedProfiles = CommittedProfiles;

fs::path committed_folder(const std::string& kind) {
  return fs::path(KUNSIM_SOURCE_DIR) / "calibrate/profiles" / kind / kCommittedProfileName;
}

std::string measured_env() { return "KUNSIM_MEASURED_DIR=" + test::shared_measured(); }

TEST_F(CommittedProfiles, EveryKindIsPricedFromItsCommittedProfileByDefault) {
  for (const char* kind : kKinds) {
    Json j = test::tiny_cluster_scenario();
    j["cluster"]["gpu"] = kind;
    const Scenario sc = scenario_from_json(j, TracePaths{});
    EXPECT_EQ(sc.cost_model, "profile") << kind;
    ASSERT_TRUE(sc.profile) << kind;
    EXPECT_EQ(sc.profile->name, kCommittedProfileName);
    EXPECT_EQ(sc.profile->variant, "production-import");
    EXPECT_EQ(sc.cost_source.rfind("measured: ", 0), 0u) << sc.cost_source;
    EXPECT_NE(sc.cost_source.find("roofline: rmsnorm"), std::string::npos) << sc.cost_source;
    EXPECT_NE(sc.cost_source.find(std::string("committed in calibrate/profiles/") + kind + "/aiconfigurator-vllm"),
              std::string::npos)
        << sc.cost_source;
  }
}

// Each committed profile is exactly what kunsim writes for the tables it reads back: no number
// loses a digit on the way, so a committed profile prices as the import it was written from.
TEST_F(CommittedProfiles, ParsedAndWrittenAgainTheyGiveTheSameBytes) {
  int checked = 0;
  for (const auto& d : shipped_profile_data()) {
    auto text = [&d](const std::string& file) { return d.file(file); };
    const Json meta = Json::parse(text("meta.json"));
    if (meta.value("format", 0) != 2) continue;
    ++checked;
    EXPECT_EQ(meta.dump(2) + "\n", text("meta.json")) << d.path;
    EXPECT_EQ(meta["importer_version"], kAiconfiguratorImporterVersion) << d.path << ": regenerate it (tools/import-profiles.sh)";
    EXPECT_EQ(meta["source_repository"], "https://github.com/ai-dynamo/aiconfigurator") << d.path;
    EXPECT_TRUE(meta["snapshot"].contains("commit")) << d.path;
    EXPECT_EQ(meta["licence"].get<std::string>().rfind("Apache-2.0", 0), 0u) << d.path;
    const KernelTables t = read_kernel_tables(std::string(d.path), text);
    for (const char* file : kKernelTableFiles)
      EXPECT_TRUE(kernel_table_text(t, file) == text(file)) << d.path << "/" << file;
    // The optional tables (fp8, MoE), parsed row by row and written again.
    const std::string gemm_fp8 = text("gemm_fp8.csv"), gemm_block = text("gemm_fp8_block.csv");
    const std::string prefill = text("attn_prefill_fp8kv.csv"), decode = text("attn_decode_fp8kv.csv");
    const std::string moe = text("moe.csv");
    EXPECT_FALSE(moe.empty()) << d.path << ": every GPU kind's tables time MoE layers";
    // Every table meta.json lists is embedded in the binary (cmake/KunsimShippedProfiles.cmake).
    for (const auto& name : meta["measured"])
      EXPECT_FALSE(text(name.get<std::string>() + ".csv").empty()) << d.path << ": " << name << " is not embedded";
    for (const char* file : {"mla_context.csv", "mla_generation.csv"}) {
      const std::string mla = text(file);
      EXPECT_FALSE(mla.empty()) << d.path << ": every GPU kind's tables time MLA";
      EXPECT_TRUE(mla_rows_text(parse_mla_rows(mla, file)) == mla) << d.path << "/" << file;
    }
    if (!gemm_fp8.empty()) EXPECT_TRUE(gemm_rows_text(parse_gemm_rows(gemm_fp8, "f")) == gemm_fp8) << d.path;
    if (!gemm_block.empty()) EXPECT_TRUE(gemm_rows_text(parse_gemm_rows(gemm_block, "f")) == gemm_block) << d.path;
    if (!prefill.empty())
      EXPECT_TRUE(attention_rows_text(parse_attention_rows(prefill, "f", false), false) == prefill) << d.path;
    if (!decode.empty())
      EXPECT_TRUE(attention_rows_text(parse_attention_rows(decode, "f", true), true) == decode) << d.path;
    EXPECT_TRUE(moe_rows_text(parse_moe_rows(moe, "f")) == moe) << d.path;
  }
  EXPECT_EQ(checked, 4) << "one committed production import per GPU kind with tables";
}

// The gate docs/fidelity.md reports: the interpolation reads every committed table within 10%.
TEST_F(CommittedProfiles, FitWithinTenPercentOnEveryProfile) {
  for (const char* kind : kKinds) {
    std::string log;
    EXPECT_EQ(test::run_kunsim("fit " + committed_folder(kind).string() + " --out " +
                                   test::scratch(std::string("fit-") + kind).string() + " --max-mape 10", &log), 0)
        << log;
    for (const char* family : {"moe ", "mla_context ", "mla_generation "})
      EXPECT_NE(log.find(family), std::string::npos) << kind << ": the fit covers " << family << log;
  }
}

TEST_F(CommittedProfiles, AScenarioCanNameAProfileOrAFolder) {
  Json j = test::tiny_cluster_scenario();
  j["cost"] = {{"profile", "no-such-profile"}};
  try {
    scenario_from_json(j, TracePaths{});
    FAIL() << "an unknown profile must be an input error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cost.profile: \"no-such-profile\" is neither a known h100-sxm profile "
                                         "(aiconfigurator-vllm) nor a folder"),
              std::string::npos)
        << e.what();
  }
  // The start-up import's name is known only where the variable brings it.
  j["cost"] = {{"profile", kImportedProfileName}};
  EXPECT_THROW(scenario_from_json(j, TracePaths{}), InputError);
  j["cost"] = {{"model", "roofline"}};
  EXPECT_EQ(scenario_from_json(j, TracePaths{}).cost_source, "roofline (cost.model=roofline)");
  j["cost"] = {{"profile", kCommittedProfileName}};
  EXPECT_NE(scenario_from_json(j, TracePaths{}).cost_source.find("cost.profile=aiconfigurator-vllm, committed in"),
            std::string::npos);
  // A folder measured on another kind (H200 tables, an H100 cluster) prices it only when told.
  j["cost"] = {{"model", "profile"}, {"profile", committed_folder("h200").string()}};
  EXPECT_THROW(scenario_from_json(j, TracePaths{}), InputError);
  j["cost"]["allow_foreign_profile"] = true;
  const Scenario folder = scenario_from_json(j, TracePaths{});
  EXPECT_NE(folder.cost_source.find("H200"), std::string::npos) << folder.cost_source;
  EXPECT_NE(folder.cost_source.find("measured on h200, pricing h100-sxm by cost.allow_foreign_profile"),
            std::string::npos)
      << folder.cost_source;
}

TEST_F(CommittedProfiles, AKindWithoutAProfileIsPricedByTheRooflineThatSaysWhy) {
  Json j = test::tiny_cluster_scenario();
  j["cluster"]["gpu"] = "h100-pcie";
  const Scenario sc = scenario_from_json(j, TracePaths{});
  EXPECT_EQ(sc.cost_model, "roofline");
  EXPECT_NE(sc.cost_source.find("none committed under calibrate/profiles/h100-pcie, and KUNSIM_MEASURED_DIR is not set"),
            std::string::npos)
      << sc.cost_source;
}

// The committed profiles can never drift from their importer without CI saying so: CI has the
// raw tables beside its clone. Slow under the sanitizers (a few hundred thousand rows) and the
// same in every build: it runs in the Release build only.
TEST_F(ImportedProfiles, AFreshImportIsByteIdenticalToTheCommittedProfile) {
#ifndef KUNSIM_REGEN_CHECK
  GTEST_SKIP() << "runs in the Release build only";
#else
  KUNSIM_REQUIRE_MEASURED();
  for (const char* kind : kKinds) {
    const fs::path out = test::scratch(std::string("reimport-") + kind) / "p";
    std::string log;
    ASSERT_EQ(test::run_kunsim("import aiconfigurator " + test::shared_measured() + " --system " +
                                   aiconfigurator_system(kind) + " --out " + out.string(), &log), 0) << log;
    for (const char* file : kProfileFiles)
      EXPECT_TRUE(test::read_file(committed_folder(kind) / file) == test::read_file(out / file))
          << kind << "/" << file << " differs from a fresh import: regenerate with tools/import-profiles.sh";
  }
#endif
}

// With the variable set, a start-up import of the user's tables wins, cost_source says so, and it
// prices exactly as the committed profile of the same tables: the runs' outputs are identical.
TEST_F(ImportedProfiles, TheVariableImportsTablesThatPriceAsTheCommittedProfile) {
  KUNSIM_REQUIRE_MEASURED();
  const std::string args = " --set cluster.gpu=h200 --set workload.max_requests=300 --quiet --no-wall-clock --out ";
  const fs::path a = test::scratch("committed-run"), b = test::scratch("imported-run");
  std::string log;
  ASSERT_EQ(test::run_kunsim("run" + args + a.string(), &log), 0) << log;
  ASSERT_EQ(test::run_kunsim("run" + args + b.string(), &log, measured_env()), 0) << log;
  const Json sa = Json::parse(test::read_file(a / "summary.json")), sb = Json::parse(test::read_file(b / "summary.json"));
  EXPECT_NE(sa["cost_source"].get<std::string>().find("[aiconfigurator-vllm]"), std::string::npos) << sa["cost_source"];
  EXPECT_NE(sb["cost_source"].get<std::string>().find("[aiconfigurator-vllm-imported]"), std::string::npos);
  EXPECT_NE(sb["cost_source"].get<std::string>().find("imported at start-up from KUNSIM_MEASURED_DIR="), std::string::npos);
  for (const char* file : {"requests.csv", "decisions.jsonl", "timeline.csv"})
    EXPECT_TRUE(test::read_file(a / file) == test::read_file(b / file)) << file;
  for (const char* key : {"ttft_s", "tpot_s", "e2e_s", "queue_s", "requests"}) EXPECT_EQ(sa[key], sb[key]) << key;
  // Either can be named.
  ASSERT_EQ(test::run_kunsim("run" + args + b.string() + " --set cost.profile=aiconfigurator-vllm", &log, measured_env()), 0)
      << log;
  EXPECT_NE(test::read_file(b / "summary.json").find("committed in calibrate/profiles/h200"), std::string::npos);
}

TEST_F(ImportedProfiles, AVariableNamingNoFolderExitsTwo) {
  std::string log;
  EXPECT_EQ(test::run_kunsim("run --quiet --out " + test::scratch("bad-measured").string(), &log,
                             "KUNSIM_MEASURED_DIR=/no/such/folder"), 2);
  EXPECT_NE(log.find("KUNSIM_MEASURED_DIR=/no/such/folder: not a folder"), std::string::npos) << log;
}

}  // namespace
}  // namespace kunsim
