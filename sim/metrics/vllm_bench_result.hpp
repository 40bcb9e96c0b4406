// VllmBenchResult: the result JSON of `vllm bench serve --save-result`, and kunsim's one reader and
// writer of it. A run's vllm-bench.json is written through it, so a tool that reads vLLM's records
// reads kunsim's; `kunsim replay-bench` reads real records through it.
//
// The figures keep vLLM's key names: counts (completed, failed, total_input_tokens, ...) as
// integers, throughputs per second, latencies in milliseconds (mean_ttft_ms, p99_itl_ms, ...;
// the percentiles are those of --metric-percentiles, 99 by default). `request_rate` is a number
// or the string "inf" (every request sent at once). With --save-detailed vLLM adds per-request
// arrays in the client's order: input_lens, output_lens (0 for a request that failed), ttfts
// (seconds, 0 when failed) and itls (per request, the gaps in seconds). There is no per-request
// TPOT. kunsim writes all but itls: its engines report token gaps per decode cohort, not per
// request.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"

namespace kunsim {

struct VllmBenchResult {
  std::string backend = "vllm";
  std::string model_id, tokenizer_id;
  std::optional<std::int64_t> num_prompts;
  std::optional<double> request_rate;  // requests/s; nullopt: "inf"
  std::optional<std::int64_t> max_concurrency;
  std::optional<double> burstiness;
  std::map<std::string, double> figures;  // every other number, by vLLM's key

  // --save-detailed: one entry per request.
  struct PerRequest {
    std::vector<std::int64_t> input_lens, output_lens;
    std::vector<double> ttfts;
    std::optional<std::vector<std::vector<double>>> itls;
  };
  std::optional<PerRequest> detailed;

  Json to_json() const;
  // Reads a --save-result JSON (or kunsim's vllm-bench.json); `origin` names it in errors. Keys
  // that are neither figures nor the setup (date, label, generated_texts, errors) are left out.
  static VllmBenchResult from_json(const Json& j, const std::string& origin);
};

}  // namespace kunsim
