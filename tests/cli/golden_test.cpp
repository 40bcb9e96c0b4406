// Golden decision logs: scenarios/burst.json and scenarios/preempt.json under every policy
// must decide exactly what tests/golden/ recorded. They are priced as users' runs are: from the
// committed measured H100 profile (cost.model=auto), so a change to the costs users get, or to
// the profile, shows here. An intended change is re-blessed with tools/bless-goldens.sh.
#include <gtest/gtest.h>

#include "sim/policy/policy_registry.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

TEST(Golden, DecisionsMatchForEveryPolicyAndScenario) {
  const std::string src = KUNSIM_SOURCE_DIR;
  for (const std::string scenario : {"burst", "preempt"})
  for (const auto& [policy, entry] : policy_registry().items()) {
    SCOPED_TRACE(scenario + " " + policy);
    const auto out = test::scratch("golden-" + scenario + "-" + policy);
    std::string log;
    // Without KUNSIM_MEASURED_DIR, whatever the caller's environment holds: the committed profile.
    ASSERT_EQ(test::run_kunsim("run " + src + "/scenarios/" + scenario + ".json --set policy.name=" + policy +
                                   " --set cost.model=auto --out " + out.string() + " --quiet --no-wall-clock",
                               &log, "env -u KUNSIM_MEASURED_DIR"), 0)
        << log;
    EXPECT_NE(test::read_file(out / "summary.json").find("committed in calibrate/profiles/h100-sxm/aiconfigurator-vllm"),
              std::string::npos);
    const std::string golden = src + "/tests/golden/" + scenario + "." + policy + ".decisions.jsonl";
    EXPECT_EQ(test::run_kunsim("diff " + golden + " " + (out / "decisions.jsonl").string(), &log), 0)
        << log << "(if intended: tools/bless-goldens.sh)";
  }
}

TEST(Golden, DiffReportsTheFirstDifferenceAndExitsOne) {
  const auto dir = test::scratch("diff");
  test::write_file(dir / "a.jsonl", "{\"t_ns\":1,\"kind\":\"drop\",\"g\":2}\n{\"t_ns\":5,\"kind\":\"restore\"}\n");
  test::write_file(dir / "b.jsonl", "{\"kind\":\"drop\",\"g\":2,\"t_ns\":1}\n{\"t_ns\":6,\"kind\":\"restore\"}\n");
  std::string log;
  EXPECT_EQ(test::run_kunsim("diff " + (dir / "a.jsonl").string() + " " + (dir / "a.jsonl").string(), &log), 0);
  EXPECT_EQ(log, "no difference (2 decisions)\n");
  EXPECT_EQ(test::run_kunsim("diff " + (dir / "a.jsonl").string() + " " + (dir / "b.jsonl").string(), &log), 1);
  EXPECT_NE(log.find("first difference at decision 2"), std::string::npos) << log;
  EXPECT_NE(log.find("after: {\"g\":2,\"kind\":\"drop\",\"t_ns\":1}"), std::string::npos) << "key order does not matter";
  EXPECT_NE(log.find("  t_ns: 5 -> 6"), std::string::npos) << log;
  test::write_file(dir / "c.jsonl", "{\"t_ns\":1,\"kind\":\"drop\",\"g\":2}\n{oops\n");
  EXPECT_EQ(test::run_kunsim("diff " + (dir / "a.jsonl").string() + " " + (dir / "c.jsonl").string(), &log), 2);
  EXPECT_NE(log.find("c.jsonl:2: malformed decision row"), std::string::npos) << log;
}

}  // namespace
}  // namespace kunsim
