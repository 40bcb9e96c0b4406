// EngineParams: vLLM's serving knobs, as a scenario's `deployment` section sets them. They
// decide the memory plan (how many KV blocks fit) and the scheduler's per-iteration limits.
#pragma once
#include <cmath>
#include <cstdint>
#include <optional>

#include "sim/model/speculative_spec.hpp"

namespace kunsim {

struct EngineParams {
  int tp = 1;                                  // GPUs per instance (tensor parallel)
  double gpu_memory_utilization = 0.9;         // share of GPU memory the engine may use
  int block_size = 16;                         // tokens per KV block
  int max_num_seqs = 256;                      // running requests per instance
  int max_num_batched_tokens = 8192;           // token budget of one iteration (chunked prefill)
  // Whether a scenario set the two limits above; where it did not, the deployment gives each
  // group vLLM's default for its GPU (vllm_engine_defaults.hpp).
  bool max_num_seqs_set = false, max_num_batched_tokens_set = false;
  int max_model_len = 32768;                   // longest prompt + output a request may have
  double watermark = 0.01;                     // share of blocks kept free at admission (vLLM)
  std::optional<std::int64_t> workspace_bytes; // activation workspace; estimated when unset
  bool enable_prefix_caching = true;           // automatic prefix caching (vLLM's default: on)
  // Speculative decoding, deployment-wide (every instance drafts alike, so a request's KV slots
  // mean the same wherever it moves): off unless deployment.speculative sets it.
  SpeculativeSpec speculative;
  // Tests only, never a scenario key: a decode jump runs as one event per step, its steps priced
  // and timed as the jump planned them, so a test can compare the jump with stepping.
  bool step_through_jumps = false;

  // Blocks vLLM keeps free when admitting, of a pool of `blocks` (its watermark, rounded down).
  std::int64_t watermark_blocks(std::int64_t blocks) const {
    return static_cast<std::int64_t>(std::floor(watermark * static_cast<double>(blocks)));
  }
};

}  // namespace kunsim
