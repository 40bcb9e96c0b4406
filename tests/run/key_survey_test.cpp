// The scenario keys documented where they are parsed: the catalogue records what JsonFields
// reads, and `kunsim list params` (the survey) holds every key with a help string, a default
// (or "required"), and a policy's own keys under their condition.
#include "run/key_survey.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/core/json_fields.hpp"

namespace kunsim {
namespace {

const KeyDoc* find(const std::vector<KeyDoc>& keys, const std::string& path, const std::string& when = "") {
  auto it = std::find_if(keys.begin(), keys.end(), [&](const KeyDoc& k) { return k.path == path && k.when == when; });
  return it == keys.end() ? nullptr : &*it;
}

TEST(KeyCatalogue, RecordsWhatJsonFieldsReadsWithPathsNormalised) {
  const Json j = parse_json_text(R"({"a": 3})", "t");
  KeyCatalogue c;
  {
    JsonFields f(j, "top.items.4");
    EXPECT_EQ(f.integer("a", 1, 0, 9, Help{"an a"}), 3);
    f.number("b", 0.25, 0, 1, Help{"a b", "a's half"});
    {
      const KeyCatalogue::Pause pause;
      f.boolean("c", true);  // not recorded
    }
    f.finish();
  }
  const auto keys = c.keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].path, "top.items[].a");
  EXPECT_EQ(keys[0].dflt, "1");
  EXPECT_EQ(keys[0].range, "[0, 9]");
  EXPECT_EQ(keys[0].help, "an a");
  EXPECT_EQ(keys[1].dflt, "a's half");
  EXPECT_EQ(normalised_key_path("workload.bursts[12].start_s"), "workload.bursts[].start_s");
}

TEST(KeyCatalogue, NothingIsRecordedWithoutOne) {
  EXPECT_EQ(KeyCatalogue::active(), nullptr);
  const Json j = parse_json_text(R"({"a": 3})", "t");
  JsonFields f(j, "x");
  f.integer("a", 1, 0, 9);
  f.finish();
  EXPECT_EQ(KeyCatalogue::active(), nullptr);
}

TEST(KeySurvey, EveryKeyHasHelpAndADefaultOrSaysRequired) {
  const auto keys = survey_scenario_keys();
  ASSERT_GT(keys.size(), 150u);
  for (const KeyDoc& k : keys) {
    EXPECT_FALSE(k.help.empty()) << k.path << " has no help string where it is parsed";
    const bool section = k.type.find("object") != std::string::npos || k.type == "array";
    if (!section && k.type != "string") {
      EXPECT_FALSE(k.dflt.empty()) << k.path << " (" << k.when << ") has neither a default nor \"required\"";
    }
  }
}

TEST(KeySurvey, ReachesEveryFormOfTheScenario) {
  const auto keys = survey_scenario_keys();
  for (const char* path : {"name", "seed", "model.kv_heads", "cluster.node_groups[].gpu", "cluster.nvlink.gb_per_s",
                           "cluster.price_per_gpu_hour", "deployment.groups[].role", "deployment.groups[].cost.model",
                           "deployment.instances", "cost.gemm_efficiency", "workload.trace.path",
                           "workload.synthetic.input_tokens.values", "workload.synthetic.output_tokens.median",
                           "workload.bursts[].multiplier", "workload.sharing.session_turns", "workload.window.duration_s",
                           "slo.tpot_s", "sim.max_time_s"})
    EXPECT_NE(find(keys, path), nullptr) << path;
  const KeyDoc* drop = find(keys, "policy.drop_usage", "policy.name=kunserve");
  ASSERT_NE(drop, nullptr);
  EXPECT_EQ(drop->dflt, "0.95");
  EXPECT_NE(find(keys, "policy.check_interval_s", "policy.name=llumnix"), nullptr);
  EXPECT_EQ(find(keys, "policy.drop_usage"), nullptr);  // only under kunserve
  // Files that are not scenarios (the model catalogue, workload profiles) are not listed.
  for (const KeyDoc& k : keys) EXPECT_EQ(k.path.find("llama"), std::string::npos) << k.path;
  EXPECT_EQ(find(keys, "workload.profile.kind"), nullptr);
}

}  // namespace
}  // namespace kunsim
