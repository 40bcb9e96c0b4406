// Every CUDA, cuBLASLt and NCCL call in kernels/ and calibrate/ goes through these checks: a
// failed call throws with the call, the file and line, so a wrong launch never passes silently
// (exit code 0 proves nothing on a GPU).
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace kunsim::gpu {

struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline void check_cuda(cudaError_t e, const char* what, const char* file, int line) {
  if (e != cudaSuccess)
    throw CudaError(std::string(file) + ":" + std::to_string(line) + ": " + what + ": " + cudaGetErrorString(e));
}

// The number of usable GPUs, or 0 with the reason in `why` (no driver, no device, ...): any
// error from the runtime means "no GPU" here.
inline int gpu_count(std::string* why = nullptr) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    if (why) *why = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(e);
    (void)cudaGetLastError();  // clear the sticky error for later calls
    return 0;
  }
  if (n == 0 && why) *why = "cudaGetDeviceCount: no CUDA device";
  return n;
}

}  // namespace kunsim::gpu

#define KUNSIM_CUDA(call) ::kunsim::gpu::check_cuda((call), #call, __FILE__, __LINE__)
// After a kernel launch: launch-configuration errors surface here, not at the next sync.
#define KUNSIM_CUDA_LAUNCHED(name) ::kunsim::gpu::check_cuda(cudaGetLastError(), name, __FILE__, __LINE__)
