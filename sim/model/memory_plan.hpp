// MemoryPlan: how one GPU of an instance splits its memory, the way vLLM sizes its KV cache:
//   usable = memory * gpu_memory_utilization
//   kv     = usable - weights/tp - activation workspace - runtime reserve
// KV is then cut into blocks of `block_size` tokens (all layers of the GPU's heads).
// A plan with kv <= 0 means the deployment is impossible; make_memory_plan says so with GiB. So
// is one whose KV holds fewer tokens than max_model_len: vLLM refuses to start it.
#pragma once
#include <cstdint>
#include <string>

#include "sim/model/engine_params.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

struct MemoryPlan {
  std::int64_t gpu_bytes = 0;
  std::int64_t usable_bytes = 0;
  std::int64_t weight_bytes = 0;        // per GPU, a speculative proposer's (draft_weight_bytes) included
  std::int64_t draft_weight_bytes = 0;  // per GPU: the speculative proposer's weights
  std::int64_t workspace_bytes = 0;  // per GPU: activations of a full token budget + logits
  std::int64_t reserve_bytes = 0;    // per GPU: CUDA graphs, NCCL buffers, allocator slack
  std::int64_t kv_bytes = 0;         // per GPU
  std::int64_t block_bytes = 0;      // one block, per GPU (with the draft's KV beside the target's)
  std::int64_t num_blocks = 0;       // per instance (each GPU holds its heads of every block)
};

inline constexpr std::int64_t kGiB = 1024LL * 1024 * 1024;
// Fixed per-GPU reserve outside weights and activations (CUDA graphs, NCCL, fragmentation).
inline constexpr std::int64_t kRuntimeReserveBytes = kGiB / 2;

// Activation workspace vLLM's profiling run would find for a full token budget.
std::int64_t estimate_workspace_bytes(const ModelSpec& m, const EngineParams& e);

// Throws InputError naming `path` with GiB needed and available when nothing is left for KV, or
// with the largest max_model_len that fits when the KV is shorter than one request of it.
MemoryPlan make_memory_plan(const ModelSpec& m, const EngineParams& e, std::int64_t gpu_bytes,
                            const std::string& path);

}  // namespace kunsim
