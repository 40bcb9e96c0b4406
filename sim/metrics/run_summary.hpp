// RunSummary: summary.json's content, assembled when a run ends from what the run measured
// (RequestMetrics, the decision log, the engines' counters) and what the run layer knows about
// itself (RunFacts). Written here, under metrics/, so that every figure of the summary has one
// home and the run layer stays wiring.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/metrics/decision_log.hpp"
#include "sim/metrics/request_metrics.hpp"
#include "sim/model/memory_plan.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"

namespace kunsim {

struct RunFacts {
  std::string scenario, policy, model, cost_model, cost_source, workload;
  double rate_scale = 1;
  std::string rate_scale_effect;  // how rate_scale acted on this workload ("" at 1)
  std::uint64_t seed = 0;
  std::int64_t skipped_rows = 0, clipped_samples = 0;
  std::int64_t rejects = 0;
  const MemoryPlan* memory = nullptr;
  int block_size = 16;
  bool prefix_caching = true;  // deployment.enable_prefix_caching (in any instance group)
  nlohmann::json groups = nlohmann::json::array();  // the instance groups, as the run layer knows them
  // deployment.speculative as run (method, num_tokens, acceptance, expected tokens a step);
  // null when off. The summary adds what the run measured.
  nlohmann::json speculative;
  SimTime end = kSimTimeZero;             // simulated time when the run stopped
  std::int64_t events = 0;     // events processed
  double wall_s = 0;           // 0 with --no-wall-clock
};

nlohmann::json run_summary(const RunFacts& facts, const RequestMetrics& metrics, const DecisionLog& decisions,
                           const ServingCluster& cluster);

}  // namespace kunsim
