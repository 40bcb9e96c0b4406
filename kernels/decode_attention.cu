// Decode attention, memory-bound: every cached K/V row of a sequence is read once per step.
// One block per (key slice, kv head, sequence); its 8 half-warps walk the slice 32 keys at a
// time, each half-warp 4 keys, each lane 16 bytes of each row (so a row is one coalesced 256-byte
// read and 8 loads per lane are in flight). The G query heads sharing the kv head are all scored
// against the row while it is in registers. Each half-warp keeps its own online-softmax state;
// the block merges the 8 states in shared memory and either writes the output (one slice) or a
// partial (m, l, acc) that decode_combine merges across slices.
#include <algorithm>
#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/bf16x8.cuh"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"

namespace kunsim::gpu {
namespace {

constexpr int kThreads = 128, kHalfWarps = kThreads / 16, kKeysPerHalf = 4;
constexpr int kKeysPerIter = kHalfWarps * kKeysPerHalf;  // 32

template <int G>
__global__ void __launch_bounds__(kThreads) decode_kernel(DecodeBatch b, PagedKv kv, AttentionHeads h) {
  __shared__ float sm_acc[kHalfWarps][G][kHeadDim];
  __shared__ float sm_m[kHalfWarps][G], sm_l[kHalfWarps][G];

  const int split = blockIdx.x, kvh = blockIdx.y, seq = blockIdx.z;
  const int kv_len = b.kv_lens[seq];
  const int kbeg = split * b.split.keys_per_split;
  const int kend = min(kv_len, kbeg + b.split.keys_per_split);
  const int half = threadIdx.x / 16, l16 = threadIdx.x % 16;
  const int* table = b.block_tables + static_cast<long long>(seq) * b.max_blocks;
  const float scale_log2 = h.scale * 1.4426950408889634f;

  float q[G][8];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    const uint4 raw = *reinterpret_cast<const uint4*>(b.q + static_cast<long long>(seq) * b.q_stride +
                                                      (kvh * G + g) * kHeadDim + l16 * 8);
    unpack_bf16x8(raw, q[g]);
#pragma unroll
    for (int d = 0; d < 8; ++d) q[g][d] *= scale_log2;
  }
  float acc[G][8], m[G], l[G];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -INFINITY;
    l[g] = 0.f;
#pragma unroll
    for (int d = 0; d < 8; ++d) acc[g][d] = 0.f;
  }

  for (int base = kbeg; base < kend; base += kKeysPerIter) {
    uint4 kr[kKeysPerHalf], vr[kKeysPerHalf];
#pragma unroll
    for (int i = 0; i < kKeysPerHalf; ++i) {
      const int key = base + half * kKeysPerHalf + i;
      kr[i] = vr[i] = make_uint4(0, 0, 0, 0);  // an absent key weighs 0, and 0 * garbage could be NaN
      if (key < kend) {
        const long long slot = static_cast<long long>(table[key / kv.block_size]) * kv.block_size + key % kv.block_size;
        const long long off = (slot * kv.kv_heads + kvh) * kHeadDim + l16 * 8;
        kr[i] = __ldg(reinterpret_cast<const uint4*>(kv.k + off));
        vr[i] = __ldg(reinterpret_cast<const uint4*>(kv.v + off));
      }
    }
    float s[kKeysPerHalf][G];
#pragma unroll
    for (int i = 0; i < kKeysPerHalf; ++i) {
      float kf[8];
      unpack_bf16x8(kr[i], kf);
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float dot = 0.f;
#pragma unroll
        for (int d = 0; d < 8; ++d) dot = fmaf(q[g][d], kf[d], dot);
        s[i][g] = dot;
      }
    }
    // Sum the 16 lanes' partial dot products (xor offsets below 16 stay inside the half-warp).
#pragma unroll
    for (int off = 8; off > 0; off /= 2)
#pragma unroll
      for (int i = 0; i < kKeysPerHalf; ++i)
#pragma unroll
        for (int g = 0; g < G; ++g) s[i][g] += __shfl_xor_sync(0xffffffffu, s[i][g], off);

#pragma unroll
    for (int g = 0; g < G; ++g) {
      float mx = m[g];
#pragma unroll
      for (int i = 0; i < kKeysPerHalf; ++i) {
        if (base + half * kKeysPerHalf + i >= kend) s[i][g] = -INFINITY;
        mx = fmaxf(mx, s[i][g]);
      }
      if (mx == -INFINITY) continue;  // no key yet for this half-warp
      const float alpha = exp2f(m[g] - mx);
      m[g] = mx;
      l[g] *= alpha;
#pragma unroll
      for (int d = 0; d < 8; ++d) acc[g][d] *= alpha;
#pragma unroll
      for (int i = 0; i < kKeysPerHalf; ++i) {
        const float p = exp2f(s[i][g] - mx);
        l[g] += p;
        float vf[8];
        unpack_bf16x8(vr[i], vf);
#pragma unroll
        for (int d = 0; d < 8; ++d) acc[g][d] = fmaf(p, vf[d], acc[g][d]);
      }
    }
  }

#pragma unroll
  for (int g = 0; g < G; ++g) {
#pragma unroll
    for (int d = 0; d < 8; ++d) sm_acc[half][g][l16 * 8 + d] = acc[g][d];
    if (l16 == 0) {
      sm_m[half][g] = m[g];
      sm_l[half][g] = l[g];
    }
  }
  __syncthreads();
  const int dim = threadIdx.x;  // kThreads == kHeadDim: one output element per thread per head
  for (int g = 0; g < G; ++g) {
    float M = -INFINITY;
    for (int w = 0; w < kHalfWarps; ++w) M = fmaxf(M, sm_m[w][g]);
    float L = 0.f, A = 0.f;
    if (M != -INFINITY)
      for (int w = 0; w < kHalfWarps; ++w) {
        const float f = exp2f(sm_m[w][g] - M);
        L += sm_l[w][g] * f;
        A += sm_acc[w][g][dim] * f;
      }
    const int qh = kvh * G + g;
    if (b.split.splits == 1) {
      b.out[static_cast<long long>(seq) * b.out_stride + qh * kHeadDim + dim] = __float2bfloat16(A / L);
    } else {
      const long long part = (static_cast<long long>(seq) * h.q_heads + qh) * b.split.splits + split;
      b.workspace[part * kHeadDim + dim] = A;
      if (dim == 0) {
        float* ml = b.workspace + static_cast<long long>(b.num_seqs) * h.q_heads * b.split.splits * kHeadDim;
        ml[2 * part] = M;
        ml[2 * part + 1] = L;
      }
    }
  }
}

// One block per (sequence, query head): merges the slices' (m, l, acc) into the output.
__global__ void __launch_bounds__(kHeadDim) decode_combine(DecodeBatch b, int q_heads) {
  const int seq = blockIdx.x / q_heads, qh = blockIdx.x % q_heads, dim = threadIdx.x;
  const int splits = b.split.splits;
  const long long first = (static_cast<long long>(seq) * q_heads + qh) * splits;
  const float* ml = b.workspace + static_cast<long long>(b.num_seqs) * q_heads * splits * kHeadDim;
  float M = -INFINITY;
  for (int s = 0; s < splits; ++s) M = fmaxf(M, ml[2 * (first + s)]);
  float L = 0.f, A = 0.f;
  for (int s = 0; s < splits; ++s) {
    const float m = ml[2 * (first + s)];
    if (m == -INFINITY) continue;  // a slice past the sequence's end
    const float f = exp2f(m - M);
    L += ml[2 * (first + s) + 1] * f;
    A += b.workspace[(first + s) * kHeadDim + dim] * f;
  }
  b.out[static_cast<long long>(seq) * b.out_stride + qh * kHeadDim + dim] = __float2bfloat16(A / L);
}

template <int G>
void launch(const DecodeBatch& b, const PagedKv& kv, const AttentionHeads& h, cudaStream_t s) {
  KUNSIM_LAUNCH(decode_kernel<G>, dim3(b.split.splits, h.kv_heads, b.num_seqs), kThreads, 0, s, b, kv, h);
  KUNSIM_CUDA_LAUNCHED("decode_kernel");
}

}  // namespace

DecodeSplit choose_decode_split(int num_seqs, int kv_heads, int max_kv_len, int sm_count) {
  DecodeSplit d;
  const int target_blocks = 2 * sm_count;
  const int have = std::max(1, num_seqs * kv_heads);
  int splits = std::max(1, (target_blocks + have - 1) / have);
  const int min_keys = 256;
  splits = std::min(splits, std::max(1, (max_kv_len + min_keys - 1) / min_keys));
  int per = (max_kv_len + splits - 1) / splits;
  per = (per + kKeysPerIter - 1) / kKeysPerIter * kKeysPerIter;
  d.keys_per_split = std::max(per, kKeysPerIter);
  d.splits = (max_kv_len + d.keys_per_split - 1) / d.keys_per_split;
  if (d.splits < 1) d.splits = 1;
  return d;
}

std::size_t decode_workspace_floats(int num_seqs, int q_heads, int splits) {
  if (splits <= 1) return 0;
  const std::size_t parts = static_cast<std::size_t>(num_seqs) * q_heads * splits;
  return parts * kHeadDim + 2 * parts;
}

void decode_attention(const DecodeBatch& b, const PagedKv& kv, const AttentionHeads& h, cudaStream_t s) {
  if (b.num_seqs == 0) return;
  check_heads(h, kv, "decode_attention");
  if (b.split.splits > 1 && !b.workspace) throw CudaError("decode_attention: split-K needs a workspace");
  if (b.q_stride % 8 != 0) throw CudaError("decode_attention: q rows must be 16-byte aligned");
  switch (h.q_heads / h.kv_heads) {
    case 1: launch<1>(b, kv, h, s); break;
    case 2: launch<2>(b, kv, h, s); break;
    case 4: launch<4>(b, kv, h, s); break;
    case 5: launch<5>(b, kv, h, s); break;
    case 7: launch<7>(b, kv, h, s); break;
    case 8: launch<8>(b, kv, h, s); break;
    default: throw CudaError("decode_attention: query heads per kv head must be 1, 2, 4, 5, 7 or 8");
  }
  if (b.split.splits > 1) {
    KUNSIM_LAUNCH(decode_combine, b.num_seqs * h.q_heads, kHeadDim, 0, s, b, h.q_heads);
    KUNSIM_CUDA_LAUNCHED("decode_combine");
  }
}

}  // namespace kunsim::gpu
