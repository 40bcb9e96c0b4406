// Gemm for the CPU emulator: the same Y = X W^T on row-major bf16, float accumulation, in plain
// loops (cuBLASLt has no host form). Lets the calibration harness run end to end without a GPU.
#include <vector>

#include "kernels/gemm.hpp"

namespace kunsim::gpu {

struct Gemm::Plan {};

Gemm::Gemm(std::size_t workspace_bytes) : workspace_(workspace_bytes) {}
Gemm::~Gemm() = default;

const Gemm::Plan& Gemm::plan(int m, int n, int k) {
  auto& slot = plans_[{m, n, k}];
  if (!slot) slot = std::make_unique<Plan>();
  return *slot;
}

void Gemm::linear(const bf16* x, const bf16* w, bf16* y, int m, int n, int k, cudaStream_t) {
  plan(m, n, k);
  std::vector<float> xf(static_cast<std::size_t>(k));
  for (int i = 0; i < m; ++i) {
    for (int p = 0; p < k; ++p) xf[p] = __bfloat162float(x[static_cast<std::size_t>(i) * k + p]);
    for (int j = 0; j < n; ++j) {
      const bf16* wr = w + static_cast<std::size_t>(j) * k;
      float acc = 0.f;
      for (int p = 0; p < k; ++p) acc += xf[p] * __bfloat162float(wr[p]);
      y[static_cast<std::size_t>(i) * n + j] = __float2bfloat16(acc);
    }
  }
}

}  // namespace kunsim::gpu
