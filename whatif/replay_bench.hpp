// ReplayBench: a real `vllm bench serve` run replayed in kunsim, figure by figure.
//
// A record is one benchmark as its user ran it: the `vllm serve` command line (the server), the
// `vllm bench serve` command line (the client), the GPU kind, and the figures vLLM printed (or
// saved with --save-result) under vLLM's JSON keys (`mean_ttft_ms`, `duration`, ...). The record
// becomes a scenario (scenario_of_record: every engine knob written out, vLLM's defaults where the
// command line is silent), kunsim runs it, and each figure both sides have is compared: the
// signed error and, over them, the mean absolute percentage error (MAPE).
//
// What is compared: vLLM's "Peak ..." lines are never (vLLM 0.11 counts them in one-second
// buckets). A finite-rate open-loop run whose real throughput fell short of the offered rate was
// saturated: its figures say more about the queue than the server, so it is flagged and left
// out of the MAPE. A burst (rate inf, or a closed loop) is a queue drain and is compared whole.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/metrics/vllm_bench_result.hpp"

namespace kunsim {

struct BenchRecord {
  std::string id;                          // "qwen3-14b/h100 random 4K"
  std::string source;                      // where the figures were copied from (file and block)
  std::string gpu;                         // kunsim's GPU kind
  std::string serve;                       // `vllm serve ...`
  std::string bench;                       // `vllm bench serve ...`
  std::map<std::string, double> measured;  // vLLM's JSON keys
  std::optional<double> recorded_mape;     // kunsim's MAPE (%) when the record was committed
  // --save-detailed's per-request arrays: the replay sends exactly these lengths, in this order,
  // whatever the dataset (without them, only --dataset-name random replays, at mean lengths).
  std::optional<VllmBenchResult::PerRequest> detailed;
};

// A manifest: {"records": [{id, source, gpu, serve, bench, measured: {...} or block: "...",
// recorded_mape, detailed: {input_lens, output_lens, ...}}]}, or one --save-result JSON with
// "serve", "bench" and "gpu" added (read through VllmBenchResult, its arrays included), or a
// folder of either: every .json in it, in name order.
std::vector<BenchRecord> load_bench_records(const std::string& path);
// The printed result block of `vllm bench serve` ("Mean TTFT (ms): 112716.92" ...) as JSON keys.
std::map<std::string, double> parse_bench_block(const std::string& text);
// The scenario a record describes. Flags kunsim cannot model yet are refused (InputError).
Json scenario_of_record(const BenchRecord& r);
// Runs the record: {id, real, kunsim, error_pct, mape, saturated, recorded_mape}.
Json replay_record(const BenchRecord& r);
std::string replay_table(const Json& results);
// docs/validation.md: MAPE per GPU, model and figure, and every record's figures.
std::string validation_markdown(const Json& results, const std::string& manifest);

}  // namespace kunsim
