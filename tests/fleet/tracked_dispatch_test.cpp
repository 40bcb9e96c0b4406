// Tracked dispatch: least_kv keeps the instances ordered by load (LeastLoadIndex) and weighs
// again only those whose load moved, where it walked every instance at every arrival. It must
// pick exactly what the walk picks. Here a walk-only copy of least_kv (registered by this test
// alone) runs the same scenarios, and every request must land on the same instance at the same
// times: requests.csv and decisions.jsonl byte-identical, on 256 instances and under the
// policies that reshape the fleet mid-run (KunServe's pipelines) or swap.
#include <gtest/gtest.h>

#include "sim/serving/dispatch/dispatcher.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

// least_kv as it was: its own walk over every instance per arrival (its pick()), no tracking.
class LeastKvWalk final : public Dispatcher {
 public:
  std::size_t pick(std::span<const EngineView* const> instances, const Request& r, SimTime now) override {
    return least_kv_->pick(instances, r, now);
  }

 private:
  std::unique_ptr<Dispatcher> least_kv_ = make_dispatcher("least_kv", "deployment.dispatch");
};

KUNSIM_REGISTER_DISPATCHER(least_kv_walk_for_tests, "least_kv_walk", "least_kv by a walk (tests only)",
                           [](const DispatchParams&) { return std::make_unique<LeastKvWalk>(); });

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

void expect_same_picks(const std::string& scenario, const Json& sets, const std::string& must_decide = "") {
  const auto tracked = run_with(scenario, sets, "least_kv");
  if (!must_decide.empty()) {
    EXPECT_NE(tracked.second.find("\"kind\":\"" + must_decide + "\""), std::string::npos);
  }
  const auto walked = run_with(scenario, sets, "least_kv_walk");
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

}  // namespace
}  // namespace kunsim
