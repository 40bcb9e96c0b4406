// Clients that give up (workload.client_timeout_s): every request ends exactly once, whatever
// state its deadline finds it in; no completed request outlives its deadline; aborted ones are
// failures kept out of the latency percentiles; and a timeout nobody reaches changes nothing.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "test_support.hpp"

namespace kunsim {
namespace {

// One H100 serving llama-3.1-8b from a KV cache cut to under a quarter of the GPU (and the
// context to the longest request, as vLLM needs to start it), so requests queue, preempt and swap; priced on the
// roofline so the test decides the same with or without the measured tables.
Json tight_scenario(const char* policy, double rate, double timeout_s) {
  Json j = Json::parse(R"({"name": "timeouts", "seed": 5, "model": "llama-3.1-8b",
    "cluster": {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 2},
    "deployment": {"instances": 2, "tp": 1, "gpu_memory_utilization": 0.235, "swap_space_gib": 64,
                   "max_model_len": 9000},
    "cost": {"model": "roofline"},
    "workload": {"synthetic": {"duration_s": 30,
      "input_tokens": {"type": "uniform", "min": 200, "max_value": 6000},
      "output_tokens": {"type": "uniform", "min": 10, "max_value": 3000}}}})");
  j["policy"] = {{"name", policy}};
  j["workload"]["synthetic"]["rate"] = rate;
  j["workload"]["client_timeout_s"] = timeout_s;
  return j;
}

struct Ended {
  std::map<std::string, int> status;  // requests.csv status -> rows
  std::set<std::string> abort_reasons;
  double max_finished_e2e = 0;
};

Ended read_outputs(const std::filesystem::path& dir) {
  Ended e;
  std::istringstream csv(test::read_file(dir / "requests.csv"));
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
    ++e.status[f[6]];
    if (f[6] == "finished") e.max_finished_e2e = std::max(e.max_finished_e2e, std::stod(f[10]));
  }
  std::istringstream log(test::read_file(dir / "decisions.jsonl"));
  while (std::getline(log, line)) {
    const Json row = Json::parse(line);
    if (row["kind"] == "abort") e.abort_reasons.insert(row["reason"].get<std::string>());
  }
  return e;
}

TEST(ClientTimeouts, EveryRequestEndsOnceAndNoneFinishesPastItsDeadlineUnderEveryPolicy) {
  for (const char* policy : {"vllm", "vllm-swap", "infercept", "llumnix", "kunserve"}) {
    const auto dir = test::scratch(std::string("timeouts-") + policy);
    const double timeout = 15;
    const Json s = test::run_scenario(tight_scenario(policy, 6, timeout), dir);
    const Json& r = s["requests"];
    const auto aborted = r["aborted"].get<std::int64_t>();
    EXPECT_GT(aborted, 0) << policy;
    EXPECT_GT(r["completed"].get<std::int64_t>(), 0) << policy;
    EXPECT_EQ(r["arrived"].get<std::int64_t>(), r["completed"].get<std::int64_t>() + r["rejected"].get<std::int64_t>() +
                                                     r["unfinished"].get<std::int64_t>() + aborted)
        << policy;
    const Ended e = read_outputs(dir);
    EXPECT_EQ(e.status.at("aborted"), aborted) << policy;
    EXPECT_EQ(e.status.at("finished"), r["completed"]) << policy;
    // The client sees engine time plus the front end; a request finishing after its deadline
    // was aborted instead.
    const double frontend = s["frontend_s"].get<double>();
    EXPECT_LE(e.max_finished_e2e, timeout + frontend + 1e-6) << policy;
    EXPECT_LE(s["e2e_s"]["max"].get<double>(), timeout + frontend + 1e-6) << policy;
    EXPECT_EQ(s["aborted"]["requests"], aborted);
    EXPECT_EQ(s["aborted"]["before_admission"].get<std::int64_t>() + s["aborted"]["before_first_token"].get<std::int64_t>() +
                  s["aborted"]["after_first_token"].get<std::int64_t>(),
              aborted);
    for (const Json& inst : s["instances"]) EXPECT_LE(inst["peak_kv_blocks"], inst["kv_capacity"]) << policy;
    const Json bench = Json::parse(test::read_file(dir / "vllm-bench.json"));
    EXPECT_EQ(bench["failed"].get<std::int64_t>(), aborted + r["rejected"].get<std::int64_t>() + r["unfinished"].get<std::int64_t>());
  }
}

TEST(ClientTimeouts, DeadlinesReachRequestsInEveryStateTheyCanBeIn) {
  std::set<std::string> reasons;
  // Overloaded queues (waiting, prefilling), then swapping engines at a range of deadlines.
  for (double timeout : {2.0, 3.0}) {
    const auto dir = test::scratch("timeouts-queue");
    test::run_scenario(tight_scenario("vllm", 40, timeout), dir);
    const Ended e = read_outputs(dir);
    reasons.insert(e.abort_reasons.begin(), e.abort_reasons.end());
  }
  for (int timeout = 10; timeout <= 40; timeout += 2) {
    const auto dir = test::scratch("timeouts-swap");
    Json j = tight_scenario("vllm-swap", 4, timeout);  // long generations on one instance swap often
    j["deployment"]["instances"] = 1;
    j["workload"]["synthetic"]["input_tokens"]["max_value"] = 1000;
    j["workload"]["synthetic"]["output_tokens"]["min"] = 1000;
    test::run_scenario(j, dir);
    const Ended e = read_outputs(dir);
    reasons.insert(e.abort_reasons.begin(), e.abort_reasons.end());
  }
  for (const char* where : {"waiting", "prefilling", "decoding", "swapped out"})
    EXPECT_TRUE(reasons.count(std::string("client timeout while ") + where)) << where;
}

TEST(ClientTimeouts, ADeadlineNobodyReachesChangesNothingByteForByte) {
  for (const char* policy : {"vllm-swap", "kunserve"}) {
    Json j = parse_json_file(std::string(KUNSIM_SOURCE_DIR) + "/scenarios/preempt.json");
    j["policy"] = {{"name", policy}};
    j["cost"] = {{"model", "roofline"}};
    const auto plain = test::scratch(std::string("timeouts-off-") + policy);
    const Json a = test::run_scenario(j, plain);
    j["workload"]["client_timeout_s"] = 1e6;
    const auto late = test::scratch(std::string("timeouts-late-") + policy);
    const Json b = test::run_scenario(j, late);
    for (const char* f : {"requests.csv", "decisions.jsonl", "timeline.csv"})
      EXPECT_EQ(test::read_file(plain / f), test::read_file(late / f)) << policy << " " << f;
    // The armed deadline is cancelled when its request ends: the run does not stretch to it.
    EXPECT_EQ(a["sim"]["simulated_s"], b["sim"]["simulated_s"]) << policy;
    EXPECT_EQ(b["requests"]["aborted"], 0);
  }
}

}  // namespace
}  // namespace kunsim
