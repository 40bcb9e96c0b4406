// Typed decisions: counted by kind and phase, written in decisions.jsonl's unchanged format.
#include "sim/metrics/decision_log.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

namespace kunsim {
namespace {

TEST(DecisionLog, CountsByKindAndPhaseAndWritesTheRowFormat) {
  std::FILE* f = std::tmpfile();
  DecisionLog log(f);
  const Decision drop{at_ns(5), DecisionKind::Drop, DecisionPhase::None, {{"instance", 4}, {"reason", "votes"}}};
  const Decision begin{at_ns(6), DecisionKind::Restore, DecisionPhase::Begin, {{"instance", 4}}};
  const Decision split{at_ns(9), DecisionKind::Restore, DecisionPhase::Split, {{"instance", 4}}};
  for (const Decision* d : {&drop, &begin, &split}) log.write(*d, d->row());
  EXPECT_EQ(log.count(DecisionKind::Drop), 1);
  EXPECT_EQ(log.count(DecisionKind::Restore), 2);
  EXPECT_EQ(log.count(DecisionKind::Restore, DecisionPhase::Split), 1);
  EXPECT_EQ(log.count(DecisionKind::Migrate), 0);
  const std::map<std::string, std::int64_t> want = {{"drop", 1}, {"restore", 2}, {"restore:begin", 1}, {"restore:split", 1}};
  EXPECT_EQ(log.counts(), want);
  std::rewind(f);
  char line[256];
  ASSERT_TRUE(std::fgets(line, sizeof line, f));
  EXPECT_STREQ(line, "{\"instance\":4,\"kind\":\"drop\",\"reason\":\"votes\",\"t_ns\":5}\n");
  ASSERT_TRUE(std::fgets(line, sizeof line, f));
  EXPECT_STREQ(line, "{\"instance\":4,\"kind\":\"restore\",\"phase\":\"begin\",\"t_ns\":6}\n");
  std::fclose(f);
}

TEST(DecisionLog, EveryKindAndPhaseHasADistinctName) {
  std::set<std::string> kinds, phases;
  for (int k = 0; k < kDecisionKinds; ++k) kinds.insert(decision_kind_name(static_cast<DecisionKind>(k)));
  for (int p = 1; p < kDecisionPhases; ++p) phases.insert(decision_phase_name(static_cast<DecisionPhase>(p)));
  EXPECT_EQ(kinds.size(), static_cast<std::size_t>(kDecisionKinds));
  EXPECT_EQ(phases.size(), static_cast<std::size_t>(kDecisionPhases - 1));
  EXPECT_EQ(kinds.count("?"), 0u);
}

}  // namespace
}  // namespace kunsim
