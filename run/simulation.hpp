// Simulation: one run of a Scenario. It builds what the run needs from it (event queue, RNG,
// topology, cost model, policy, engines, outputs) and owns nothing else: no globals, so two
// simulations in one process, or on two threads, give identical results. Events run in the
// kernel's EventLoop; the summary is assembled in metrics/ (run_summary).
#pragma once
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "run/scenario.hpp"
#include "sim/core/event_queue.hpp"

namespace kunsim {

struct RunOptions {
  std::string out_dir;       // empty: write no files
  bool wall_clock = true;    // false: write 0 for wall-time figures (byte-identical summaries)
  // Which files to write into out_dir (summary.json is written by the caller).
  bool requests_csv = true, timeline_csv = true, decisions_jsonl = true;
  bool perfetto = false;     // trace.json in Chrome trace format
  bool force = false;        // --force: lift the limits of run/run_limits.hpp
  // --save-detailed: vllm-bench.json carries per-request input_lens, output_lens and ttfts, as
  // vLLM's does (sim/metrics/vllm_bench_result.hpp).
  bool save_detailed = false;
  // Keep the outputs in memory instead (Simulation::outputs()): a caller that writes nothing
  // to disk until asked (the Python module). out_dir is then unused.
  bool in_memory = false;
};

class Simulation {
 public:
  Simulation(const Scenario& scenario, RunOptions options);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;
  // Runs to the end (or sim.max_time_s) and returns summary.json's content.
  Json run();
  // After run(): vllm-bench.json's content (the figures under `vllm bench serve`'s keys).
  Json vllm_bench() const;
  // After run(), with RunOptions::in_memory: the files the run would have written into out_dir,
  // as (name, text) in a fixed order: requests.csv, timeline.csv, decisions.jsonl and trace.json
  // where asked for, then vllm-bench.json. summary.json is run()'s, as the caller writes it.
  std::vector<std::pair<std::string, std::string>> outputs() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kunsim
