#include "kernels/elementwise.hpp"

#include <algorithm>

#include "kernels/bf16x8.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"

namespace kunsim::gpu {
namespace {

constexpr int kNormThreads = 256, kMaxVecs = 8;  // 256 threads x 8 vectors x 8 = 16384 elements

// The token's row stays in registers between the sum of squares and the scaling: one read,
// one write (two of each with the residual).
__global__ void __launch_bounds__(kNormThreads) rms_norm_kernel(bf16* out, const bf16* x, bf16* residual,
                                                                const bf16* weight, int hidden, float eps) {
  __shared__ float warp_sums[kNormThreads / 32];
  const long long row = static_cast<long long>(blockIdx.x) * hidden;
  const int vecs = hidden / 8;
  float v[kMaxVecs][8];
  float ss = 0.f;
#pragma unroll
  for (int j = 0; j < kMaxVecs; ++j) {
    const int idx = threadIdx.x + j * kNormThreads;
    if (idx < vecs) {
      unpack_bf16x8(reinterpret_cast<const uint4*>(x + row)[idx], v[j]);
      if (residual) {
        float r[8];
        unpack_bf16x8(reinterpret_cast<const uint4*>(residual + row)[idx], r);
#pragma unroll
        for (int e = 0; e < 8; ++e) r[e] += v[j][e];
        const uint4 packed = pack_bf16x8(r);
        reinterpret_cast<uint4*>(residual + row)[idx] = packed;
        unpack_bf16x8(packed, v[j]);  // normalise the sum as stored, in bf16
      }
#pragma unroll
      for (int e = 0; e < 8; ++e) ss = fmaf(v[j][e], v[j][e], ss);
    }
  }
#pragma unroll
  for (int off = 16; off > 0; off /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, off);
  if (threadIdx.x % 32 == 0) warp_sums[threadIdx.x / 32] = ss;
  __syncthreads();
  float total = 0.f;
#pragma unroll
  for (int w = 0; w < kNormThreads / 32; ++w) total += warp_sums[w];
  const float inv = rsqrtf(total / static_cast<float>(hidden) + eps);
#pragma unroll
  for (int j = 0; j < kMaxVecs; ++j) {
    const int idx = threadIdx.x + j * kNormThreads;
    if (idx < vecs) {
      float w[8];
      unpack_bf16x8(reinterpret_cast<const uint4*>(weight)[idx], w);
#pragma unroll
      for (int e = 0; e < 8; ++e) v[j][e] *= inv * w[e];
      reinterpret_cast<uint4*>(out + row)[idx] = pack_bf16x8(v[j]);
    }
  }
}

__global__ void silu_and_mul_kernel(bf16* out, const bf16* x, int tokens, int inter) {
  const int vecs_per_row = inter / 8;
  const long long total = static_cast<long long>(tokens) * vecs_per_row;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long t = i / vecs_per_row, c = i % vecs_per_row;
    const uint4* row = reinterpret_cast<const uint4*>(x + t * 2 * inter);
    float gate[8], up[8];
    unpack_bf16x8(row[c], gate);
    unpack_bf16x8(row[vecs_per_row + c], up);
#pragma unroll
    for (int e = 0; e < 8; ++e) gate[e] = gate[e] / (1.f + __expf(-gate[e])) * up[e];
    reinterpret_cast<uint4*>(out + t * inter)[c] = pack_bf16x8(gate);
  }
}

}  // namespace

void rms_norm(bf16* out, const bf16* x, bf16* residual, const bf16* weight, int tokens, int hidden, float eps,
              cudaStream_t s) {
  if (tokens == 0) return;
  if (hidden % 8 != 0 || hidden > kNormThreads * kMaxVecs * 8)
    throw CudaError("rms_norm: hidden must be a multiple of 8 and at most 16384");
  KUNSIM_LAUNCH(rms_norm_kernel, tokens, kNormThreads, 0, s, out, x, residual, weight, hidden, eps);
  KUNSIM_CUDA_LAUNCHED("rms_norm_kernel");
}

void silu_and_mul(bf16* out, const bf16* x, int tokens, int inter, cudaStream_t s) {
  if (tokens == 0) return;
  if (inter % 8 != 0) throw CudaError("silu_and_mul: the intermediate width must be a multiple of 8");
  const long long vecs = static_cast<long long>(tokens) * (inter / 8);
  const int threads = 256;
  const long long blocks = std::min<long long>((vecs + threads - 1) / threads, 132LL * 16);
  KUNSIM_LAUNCH(silu_and_mul_kernel, static_cast<int>(blocks), threads, 0, s, out, x, tokens, inter);
  KUNSIM_CUDA_LAUNCHED("silu_and_mul_kernel");
}

}  // namespace kunsim::gpu
