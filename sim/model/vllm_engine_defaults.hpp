// The scheduler limits vLLM's API server (`vllm serve`) picks per GPU when the command line does
// not set them: EngineArgs' batch defaults, from the total memory CUDA reports and the device name.
//   vLLM 0.10-0.27: at least 70 GiB and not an A100 -> max_num_seqs 1024, max_num_batched_tokens
//                   8192; otherwise (A100s, smaller GPUs) 256 and 2048. The A100 is carved out
//                   because a larger token budget cost it throughput (vLLM PR #17885).
//   vLLM 0.28:      adds a tier above: at least 160 GiB (B200, B300) -> 16384 batched tokens
//                   (max_num_seqs stays 1024).
// A scenario that sets either key keeps its value; only the unset one takes the GPU's default.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

namespace kunsim {

struct SchedulerLimits {
  int max_num_seqs = 0;
  int max_num_batched_tokens = 0;
};

// The vLLM release kunsim models where nothing names another: the shipped production profiles'
// (calibrate/profiles/*/aiconfigurator-vllm: 0.24.0 on H100, H200 and B200).
inline constexpr const char* kModelledVllmVersion = "0.24.0";

// `memory_bytes`: the total CUDA reports (vLLM's total_gpu_memory); `a100`: the device name says
// A100; `vllm_version`: "MAJOR.MINOR[.PATCH]" (anything unreadable is the modelled release).
inline SchedulerLimits vllm_api_server_limits(std::int64_t memory_bytes, bool a100, const std::string& vllm_version) {
  int major = 0, minor = 0;
  if (std::sscanf(vllm_version.c_str(), "%d.%d", &major, &minor) != 2)
    std::sscanf(kModelledVllmVersion, "%d.%d", &major, &minor);
  constexpr std::int64_t kGiBytes = 1024LL * 1024 * 1024;
  const bool from_0_28 = major > 0 || minor >= 28;
  if (from_0_28 && memory_bytes >= 160 * kGiBytes) return {1024, 16384};
  if (memory_bytes >= 70 * kGiBytes && !a100) return {1024, 8192};
  return {256, 2048};
}

}  // namespace kunsim
