// Linear layers through cuBLASLt: Y[m x n] = X[m x k] * W[n x k]^T, all row-major bf16 (weights
// as checkpoints store them), float32 accumulation. A plan (descriptors plus the heuristic's
// first algorithm) is made once per shape and kept, so timing loops measure the GEMM only.
#pragma once
#include <cublasLt.h>
#include <cuda_runtime.h>

#include <map>
#include <memory>
#include <tuple>

#include "kernels/bf16.hpp"
#include "kernels/device_buffer.hpp"

namespace kunsim::gpu {

class Gemm {
 public:
  explicit Gemm(std::size_t workspace_bytes = 32u << 20);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  void linear(const bf16* x, const bf16* w, bf16* y, int m, int n, int k, cudaStream_t s);

 private:
  struct Plan;
  const Plan& plan(int m, int n, int k);
  cublasLtHandle_t handle_ = nullptr;
  DeviceBuffer<unsigned char> workspace_;
  std::map<std::tuple<int, int, int>, std::unique_ptr<Plan>> plans_;
};

}  // namespace kunsim::gpu
