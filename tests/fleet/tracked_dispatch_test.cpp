// Tracked dispatch: least_kv and prefix_aware keep the instances ordered by load
// (LeastLoadIndex) and weigh again only those whose load moved, where they walked every instance
// at every arrival. They must pick exactly what the walk picks. Here walk-only copies
// (registered by this test alone) run the same scenarios, and every request must land on the same instance at the same
// times: requests.csv and decisions.jsonl byte-identical, on 256 instances and under the
// policies that reshape the fleet mid-run (KunServe's pipelines) or swap.
#include <gtest/gtest.h>

#include "sim/serving/dispatch/dispatcher.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

// A tracking dispatcher as it was: its own walk over every instance per arrival (its pick()),
// with no tracking.
class Walk final : public Dispatcher {
 public:
  explicit Walk(const std::string& name) : tracked_(make_dispatcher(name, "deployment.dispatch")) {}
  std::size_t pick(std::span<const EngineView* const> instances, const Request& r, SimTime now) override {
    return tracked_->pick(instances, r, now);
  }

 private:
  std::unique_ptr<Dispatcher> tracked_;
};

KUNSIM_REGISTER_DISPATCHER(least_kv_walk_for_tests, "least_kv_walk", "least_kv by a walk (tests only)",
                           [](const DispatchParams&) { return std::make_unique<Walk>("least_kv"); });
KUNSIM_REGISTER_DISPATCHER(prefix_aware_walk_for_tests, "prefix_aware_walk", "prefix_aware by a walk (tests only)",
                           [](const DispatchParams&) { return std::make_unique<Walk>("prefix_aware"); });

// Runs scenarios/`scenario` with `sets` (JSON pointers and values) under dispatcher `dispatch`,
// in this process (the walk is registered here alone), and returns its requests.csv and
// decisions.jsonl.
std::pair<std::string, std::string> run_with(const std::string& scenario, const Json& sets,
                                             const std::string& dispatch) {
  Json j = Json::parse(test::read_file(std::string(KUNSIM_SOURCE_DIR) + "/scenarios/" + scenario));
  for (const auto& [pointer, value] : sets.items()) j[Json::json_pointer(pointer)] = value;
  j["deployment"]["dispatch"] = dispatch;
  j["cost"] = {{"model", "roofline"}};  // holds without ../shared
  const auto out = test::scratch("tracked-" + dispatch);
  test::run_scenario(j, out);
  return {test::read_file(out / "requests.csv"), test::read_file(out / "decisions.jsonl")};
}

void expect_same_picks(const std::string& scenario, const Json& sets, const std::string& must_decide = "",
                       const std::string& dispatch = "least_kv") {
  const auto tracked = run_with(scenario, sets, dispatch);
  if (!must_decide.empty()) {
    EXPECT_NE(tracked.second.find("\"kind\":\"" + must_decide + "\""), std::string::npos);
  }
  const auto walked = run_with(scenario, sets, dispatch + "_walk");
  ASSERT_GT(tracked.first.size(), 1000u);
  EXPECT_TRUE(tracked.first == walked.first) << "requests.csv differs";
  EXPECT_TRUE(tracked.second == walked.second) << "decisions.jsonl differs";
}

TEST(TrackedDispatch, PicksWhatTheWalkPicksOn256Instances) {
  // bench-1m's load (12.5 req/s per instance) on 256 H100s, 20,000 requests.
  expect_same_picks("bench/1m.json", {{"/deployment/instances", 256},
                                      {"/cluster/nodes", 32},
                                      {"/workload/synthetic/rate", 3200},
                                      {"/workload/max_requests", 20000}});
}

TEST(TrackedDispatch, PicksWhatTheWalkPicksWhilePoliciesReshapeTheFleet) {
  // KunServe drops parameters and fuses pipelines (the list of instances taking arrivals
  // changes, and with it every index); vllm-swap swaps out and back in.
  expect_same_picks("burst.json", {{"/policy/name", "kunserve"}}, "drop");
  expect_same_picks("burst.json", {{"/policy/name", "vllm-swap"}}, "swap_out");
}

// prefix_aware weighs the instances holding the prompt's first key and the least loaded one:
// bench-1m-prefix (shared system prompts and conversations) on 64 instances, at vLLM's 16-token
// hash blocks, where each prompt's keys are held by a few instances and the system prompts by
// most.
TEST(TrackedDispatch, PrefixAwarePicksWhatItsWalkPicks) {
  expect_same_picks("bench/1m-prefix.json",
                    {{"/deployment/instances", 64},
                     {"/cluster/nodes", 8},
                     {"/workload/synthetic/rate", 800},
                     {"/workload/max_requests", 10000},
                     {"/workload/sharing/hash_block_tokens", 16}},
                    "", "prefix_aware");
}

}  // namespace
}  // namespace kunsim
