// write_kv_rope: one block per new token. Rotates q and k in place (neox layout: element i pairs
// with i + 64), then copies the rotated k and the v of the token into its cache slot, so the
// attention kernels that follow read every key, new or old, from one place.
#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"

namespace kunsim::gpu {
namespace {

constexpr int kHalf = kHeadDim / 2;

__global__ void __launch_bounds__(256) write_kv_rope_kernel(bf16* qkv, int q_heads, int kv_heads, const int* positions,
                                                            const int* slots, const float* inv_freq, bf16* kc, bf16* vc) {
  const int t = blockIdx.x;
  const long long stride = static_cast<long long>(q_heads + 2 * kv_heads) * kHeadDim;
  bf16* row = qkv + t * stride;
  const float pos = static_cast<float>(positions[t]);
  const long long slot_off = static_cast<long long>(slots[t]) * kv_heads * kHeadDim;
  for (int idx = threadIdx.x; idx < (q_heads + kv_heads) * kHalf; idx += blockDim.x) {
    const int head = idx / kHalf, i = idx % kHalf;
    float sn, cs;
    sincosf(pos * inv_freq[i], &sn, &cs);
    bf16* x = row + head * kHeadDim;
    const float a = __bfloat162float(x[i]), c = __bfloat162float(x[i + kHalf]);
    const bf16 ra = __float2bfloat16(a * cs - c * sn), rc = __float2bfloat16(c * cs + a * sn);
    x[i] = ra;
    x[i + kHalf] = rc;
    if (head >= q_heads) {
      bf16* k = kc + slot_off + (head - q_heads) * kHeadDim;
      k[i] = ra;
      k[i + kHalf] = rc;
    }
  }
  const uint4* v = reinterpret_cast<const uint4*>(row + (q_heads + kv_heads) * kHeadDim);
  uint4* vdst = reinterpret_cast<uint4*>(vc + slot_off);
  for (int idx = threadIdx.x; idx < kv_heads * kHeadDim / 8; idx += blockDim.x) vdst[idx] = v[idx];
}

}  // namespace

std::vector<float> rope_inv_freq(double theta) {
  std::vector<float> f(kHalf);
  for (int i = 0; i < kHalf; ++i) f[i] = static_cast<float>(std::pow(theta, -2.0 * i / kHeadDim));
  return f;
}

void write_kv_rope(bf16* qkv, int tokens, int q_heads, const int* positions, const int* slots, const float* inv_freq,
                   const PagedKv& kv, cudaStream_t s) {
  if (tokens == 0) return;
  KUNSIM_LAUNCH(write_kv_rope_kernel, tokens, 256, 0, s, qkv, q_heads, kv.kv_heads, positions, slots, inv_freq, kv.k, kv.v);
  KUNSIM_CUDA_LAUNCHED("write_kv_rope_kernel");
}

}  // namespace kunsim::gpu
