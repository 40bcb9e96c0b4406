// The memory-bound pieces of a transformer layer between the GEMMs, each one pass over its data:
//   rms_norm       y = x / sqrt(mean(x^2) + eps) * w, per token; with `residual`, first
//                  residual += x and the sum is normalised (vLLM's fused_add_rms_norm)
//   silu_and_mul   y[t, i] = silu(x[t, i]) * x[t, I + i]: the gate and up halves of one
//                  gate_up GEMM output, fused so the [T, 2I] intermediate is read once
#pragma once
#include <cuda_runtime.h>

#include "kernels/bf16.hpp"

namespace kunsim::gpu {

// hidden: a multiple of 8, at most 16384.
void rms_norm(bf16* out, const bf16* x, bf16* residual, const bf16* weight, int tokens, int hidden, float eps,
              cudaStream_t s);

// x: [tokens][2 * inter], out: [tokens][inter]; inter a multiple of 8.
void silu_and_mul(bf16* out, const bf16* x, int tokens, int inter, cudaStream_t s);

}  // namespace kunsim::gpu
