// The plan library without the binary: targets parse or are refused with the reason, the
// bisection's answer meets the target and one less does not, and a range where nothing meets is
// an answer (no value, and why), not an error.
#include "whatif/plan.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace kunsim {
namespace {

TEST(PlanLibrary, TargetsParseOrSayWhyNot) {
  const PlanTarget a = PlanTarget::parse("0.95");
  EXPECT_EQ(a.metric, "attainment");
  EXPECT_DOUBLE_EQ(a.bound, 0.95);
  const PlanTarget t = PlanTarget::parse("ttft.p99<=2");
  EXPECT_EQ(t.metric, "ttft");
  EXPECT_EQ(t.stat, "p99");
  EXPECT_TRUE(t.at_most);
  EXPECT_THROW(PlanTarget::parse("ttft.p99>=2"), InputError);
  EXPECT_THROW(PlanTarget::parse("ttft.p42<=2"), InputError);
  EXPECT_THROW(PlanTarget::parse("1.5"), InputError);
}

std::string scenario_file(const char* name, double rate) {
  const auto dir = test::scratch(name);
  Json s = test::tiny_cluster_scenario();
  s["workload"]["synthetic"]["rate"] = rate;
  s["workload"]["synthetic"]["duration_s"] = 10;
  s["slo"] = {{"ttft_s", 0.5}, {"tpot_s", 0.1}};
  test::write_file(dir / "s.json", s.dump());
  return (dir / "s.json").string();
}

TEST(PlanLibrary, TheFewestInstancesMeetTheTargetAndOneLessDoesNot) {
  PlanOptions opt;
  opt.target = "0.95";
  const Json plan = run_plan(scenario_file("whatif-plan", 60), {}, opt);
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << plan.dump(2);
  const long long n = r["value"];
  bool met = false, below_fails = n == 1;
  for (const auto& p : r["probes"]) {
    if (p["deployment.instances"] == n) met = p["meets"];
    if (p["deployment.instances"] == n - 1) below_fails = !p["meets"].get<bool>();
  }
  EXPECT_TRUE(met);
  EXPECT_TRUE(below_fails);
}

TEST(PlanLibrary, NothingMeetingInTheRangeIsAnAnswerWithItsReason) {
  PlanOptions opt;
  opt.target = "0.95";
  opt.min = 1;
  opt.max = 1;
  const Json plan = run_plan(scenario_file("whatif-plan-none", 200), {}, opt);
  const Json& r = plan["policies"]["vllm"];
  EXPECT_TRUE(r["value"].is_null()) << plan.dump(2);
  EXPECT_NE(r["reason"].get<std::string>().find("not met even at 1 instances"), std::string::npos) << r["reason"];
  opt.min = 3;
  opt.max = 2;
  EXPECT_THROW(run_plan(scenario_file("whatif-plan-bad", 10), {}, opt), InputError);
}

}  // namespace
}  // namespace kunsim
