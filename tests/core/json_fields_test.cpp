#include "sim/core/json_fields.hpp"

#include <gtest/gtest.h>

namespace kunsim {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(JsonFields, NamesPathOfWrongType) {
  const Json j = Json::parse(R"({"gpus_per_node": "eight"})");
  JsonFields f(j, "cluster");
  EXPECT_EQ(error_of([&] { f.integer("gpus_per_node", 8, 1, 64); }),
            "cluster.gpus_per_node: expected integer in [1, 64], got string \"eight\"");
}

TEST(JsonFields, RefusesUnknownKeys) {
  const Json j = Json::parse(R"({"nodes": 2, "gpu_per_node": 4})");
  JsonFields f(j, "cluster");
  f.integer("nodes", 1, 1, 10);
  EXPECT_EQ(error_of([&] { f.finish(); }), "cluster.gpu_per_node: unknown key");
}

TEST(JsonFields, RangeAndFiniteness) {
  EXPECT_NE(error_of([] { parse_json_text(R"({"a": 1e400})", "s.json"); }).find("s.json"), std::string::npos);
  const Json j = Json::parse(R"({"a": 1e300, "b": -1, "c": 1.5, "d": 18446744073709551615})");
  JsonFields f(j, "x");
  EXPECT_NE(error_of([&] { f.number("a", 0, 1e9); }).find("x.a"), std::string::npos);
  EXPECT_NE(error_of([&] { f.number("b", 0, 1e9); }).find("x.b: expected number in [0"), std::string::npos);
  EXPECT_NE(error_of([&] { f.integer("c", 0, 10); }).find("x.c: expected integer"), std::string::npos);
  EXPECT_NE(error_of([&] { f.integer("d", 0, 10); }).find("x.d"), std::string::npos);
}

TEST(JsonFields, MalformedAndDuplicateKeysNameTheFileAndLine) {
  EXPECT_NE(error_of([] { parse_json_text("{\n\"a\": 1,\n\"b\": }\n", "s.json"); }).find("s.json:3: malformed JSON"),
            std::string::npos);
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": {"x": 1, "x": 2}})", "s.json"); }), "s.json: duplicate key \"x\"");
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": {"x": 1}, "b": {"x": 2}})", "s.json"); }), "(no error)");
}

TEST(JsonFields, OverridesSetNestedKeysWithTypedValues) {
  Json j = Json::parse(R"({"deployment": {"instances": 2}, "arr": [{"v": 1}]})");
  apply_override(j, "deployment.instances=8");
  apply_override(j, "policy.name=vllm-swap");
  apply_override(j, "slo.ttft_s=0.5");
  apply_override(j, "arr.0.v=true");
  EXPECT_EQ(j["deployment"]["instances"], 8);
  EXPECT_EQ(j["policy"]["name"], "vllm-swap");
  EXPECT_EQ(j["slo"]["ttft_s"], 0.5);
  EXPECT_EQ(j["arr"][0]["v"], true);
  EXPECT_NE(error_of([&] { apply_override(j, "novalue"); }).find("expected key.path=value"), std::string::npos);
  EXPECT_NE(error_of([&] { apply_override(j, "arr.5.v=1"); }).find("out of range"), std::string::npos);
}

}  // namespace
}  // namespace kunsim
