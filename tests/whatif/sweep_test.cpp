// The sweep library without the binary: a grid and a zip expand into runs in a fixed order,
// every point is validated before any runs, and a point that cannot run comes back as a typed
// Infeasible row with its reason while the others run.
#include "whatif/sweep.hpp"

#include <gtest/gtest.h>

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
  const SweepSpec spec = load_sweep(write_sweep(dir, {{"deployment.instances", {2, 99, 3}}}).string());
  SweepOptions opt;
  opt.progress = false;
  opt.out_dir = (dir / "o").string();
  const std::vector<SweepRow> rows = run_sweep(spec, opt);
  ASSERT_EQ(rows.size(), 3u);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].index, i);
  EXPECT_EQ(rows[0].status, SweepStatus::Ok);
  EXPECT_EQ(rows[1].status, SweepStatus::Infeasible);
  EXPECT_EQ(rows[2].status, SweepStatus::Ok);
  EXPECT_NE(rows[1].reason.find("deployment.instances: 99 instances x tp 1 need 99 GPUs"), std::string::npos)
      << rows[1].reason;
  EXPECT_TRUE(rows[0].reason.empty());
  // The CSV row of an infeasible point keeps its values and says why, in the status column.
  EXPECT_EQ(rows[1].csv.rfind("1,99,", 0), 0u) << rows[1].csv;
  EXPECT_NE(rows[1].csv.find("infeasible: "), std::string::npos);
  EXPECT_NE(rows[0].csv.find(",ok,"), std::string::npos) << rows[0].csv;
}

TEST(SweepLibrary, ARowCrossesRanksIntact) {
  const SweepRow row{7, SweepStatus::Infeasible, "a reason, with \"quotes\"\nand a newline", "7,99,\"x\""};
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
