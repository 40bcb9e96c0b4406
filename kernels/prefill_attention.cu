// Prefill attention: one block per (64-row query tile, query head); four warps, 16 rows each.
// Per key tile of 64: S = Q K^T on tensor cores (Q fragments stay in registers for the whole
// block), causal and length masks, online softmax in the log2 domain, then O += P V with P
// re-used straight from the S accumulators as A fragments (FlashAttention-2's register trick).
// K and V arrive through cp.async from the paged cache; V is issued with K and waited on only
// after S is done, so its load overlaps the first matrix product.
#include <atomic>
#include <cfloat>
#include <cmath>

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"
#include "kernels/mma.cuh"

namespace kunsim::gpu {
namespace {

constexpr int kBlockM = 64, kBlockN = 64, kWarps = 4;
constexpr int kLds = kHeadDim + 8;  // padded row: consecutive rows start 16 bytes apart mod 128
constexpr int kSmemBytes = 3 * kBlockM * kLds * static_cast<int>(sizeof(bf16));

// Issues the cp.async loads of one 64-key tile of `cache` (K or V) for head `kvh`.
__device__ __forceinline__ void load_kv_tile(bf16* tile, const bf16* cache, const int* table, int block_size,
                                             int kv_heads, int kvh, int k0, int kend) {
  for (int c = threadIdx.x; c < kBlockN * (kHeadDim / 8); c += kWarps * 32) {
    const int r = c / (kHeadDim / 8), ch = c % (kHeadDim / 8);
    const int key = k0 + r;
    const bool valid = key < kend;
    const bf16* src = cache;
    if (valid) {
      const long long slot = static_cast<long long>(table[key / block_size]) * block_size + key % block_size;
      src = cache + (slot * kv_heads + kvh) * kHeadDim + ch * 8;
    }
    ptx::cp_async16(tile + r * kLds + ch * 8, src, valid);
  }
}

__global__ void __launch_bounds__(kWarps * 32) prefill_kernel(PrefillBatch b, PagedKv kv, AttentionHeads h) {
  KUNSIM_DYNAMIC_SMEM(smem_raw);
  bf16* qs = reinterpret_cast<bf16*>(smem_raw);
  bf16* ks = qs + kBlockM * kLds;
  bf16* vs = ks + kBlockN * kLds;

  const int2 tile = b.tiles[blockIdx.x];
  const int seq = tile.x, q0 = tile.y, qh = blockIdx.y;
  const int qbeg = b.cu_q[seq], qlen = b.cu_q[seq + 1] - qbeg;
  const int kv_len = b.kv_lens[seq], ctx = kv_len - qlen;
  const int kvh = qh / (h.q_heads / h.kv_heads);
  const int rows = min(kBlockM, qlen - q0);
  const int kend = ctx + q0 + rows;  // the last row sees keys up to its own position
  const int* table = b.block_tables + static_cast<long long>(seq) * b.max_blocks;

  for (int c = threadIdx.x; c < kBlockM * (kHeadDim / 8); c += kWarps * 32) {
    const int r = c / (kHeadDim / 8), ch = c % (kHeadDim / 8);
    const bool valid = r < rows;
    const bf16* src = valid ? b.q + static_cast<long long>(qbeg + q0 + r) * b.q_stride + qh * kHeadDim + ch * 8 : b.q;
    ptx::cp_async16(qs + r * kLds + ch * 8, src, valid);
  }
  ptx::cp_async_commit();

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, qd = lane % 4;
  const int row0 = warp * 16 + g;            // this thread's rows: row0 and row0 + 8
  const int pos0 = ctx + q0 + row0, pos1 = pos0 + 8;
  const float scale_log2 = h.scale * 1.4426950408889634f;

  ptx::cp_async_wait<0>();
  __syncthreads();
  unsigned qa[kHeadDim / 16][4];
#pragma unroll
  for (int kk = 0; kk < kHeadDim / 16; ++kk) {
    qa[kk][0] = ptx::ld_shared_u32(qs + row0 * kLds + kk * 16 + qd * 2);
    qa[kk][1] = ptx::ld_shared_u32(qs + (row0 + 8) * kLds + kk * 16 + qd * 2);
    qa[kk][2] = ptx::ld_shared_u32(qs + row0 * kLds + kk * 16 + 8 + qd * 2);
    qa[kk][3] = ptx::ld_shared_u32(qs + (row0 + 8) * kLds + kk * 16 + 8 + qd * 2);
  }

  float o[kHeadDim / 8][4];
#pragma unroll
  for (int d = 0; d < kHeadDim / 8; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.f;
  float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;

  const int ntiles = (kend + kBlockN - 1) / kBlockN;
  for (int j = 0; j < ntiles; ++j) {
    const int k0 = j * kBlockN;
    __syncthreads();  // every warp is done reading the previous tile
    load_kv_tile(ks, kv.k, table, kv.block_size, kv.kv_heads, kvh, k0, kend);
    ptx::cp_async_commit();
    load_kv_tile(vs, kv.v, table, kv.block_size, kv.kv_heads, kvh, k0, kend);
    ptx::cp_async_commit();
    ptx::cp_async_wait<1>();  // K is in
    __syncthreads();

    float s[kBlockN / 8][4];
#pragma unroll
    for (int n = 0; n < kBlockN / 8; ++n) {
      s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
      const bf16* krow = ks + (n * 8 + g) * kLds + qd * 2;
#pragma unroll
      for (int kk = 0; kk < kHeadDim / 16; ++kk)
        ptx::mma_bf16(s[n], qa[kk], ptx::ld_shared_u32(krow + kk * 16), ptx::ld_shared_u32(krow + kk * 16 + 8));
    }

    // Masks: a key past the row's own position (causal) or past the keys written for the tile.
    const bool needs_mask = k0 + kBlockN > ctx + q0 + warp * 16 || k0 + kBlockN > kend;
    float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
    for (int n = 0; n < kBlockN / 8; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int key = k0 + n * 8 + qd * 2 + (e & 1);
        const int pos = e < 2 ? pos0 : pos1;
        float v = s[n][e] * scale_log2;
        if (needs_mask && (key > pos || key >= kend)) v = -INFINITY;
        s[n][e] = v;
      }
      mx0 = fmaxf(mx0, fmaxf(s[n][0], s[n][1]));
      mx1 = fmaxf(mx1, fmaxf(s[n][2], s[n][3]));
    }
#pragma unroll
    for (int off = 1; off < 4; off *= 2) {
      mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, off));
      mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, off));
    }
    const float new0 = fmaxf(m0, mx0), new1 = fmaxf(m1, mx1);
    // A row with no visible key yet keeps everything at zero (exp2(-inf - 0) = 0), no NaN.
    const float base0 = new0 == -INFINITY ? 0.f : new0, base1 = new1 == -INFINITY ? 0.f : new1;
    const float alpha0 = exp2f(m0 - base0), alpha1 = exp2f(m1 - base1);
    m0 = new0;
    m1 = new1;
    float sum0 = 0.f, sum1 = 0.f;
    unsigned pa[kBlockN / 16][4];
#pragma unroll
    for (int n = 0; n < kBlockN / 8; ++n) {
      const float p0 = exp2f(s[n][0] - base0), p1 = exp2f(s[n][1] - base0);
      const float p2 = exp2f(s[n][2] - base1), p3 = exp2f(s[n][3] - base1);
      sum0 += p0 + p1;
      sum1 += p2 + p3;
      // C fragment of key block n -> A fragment of the P V product (keys are its k dimension).
      pa[n / 2][(n % 2) * 2 + 0] = ptx::pack_bf16(p0, p1);
      pa[n / 2][(n % 2) * 2 + 1] = ptx::pack_bf16(p2, p3);
    }
    l0 = l0 * alpha0 + sum0;
    l1 = l1 * alpha1 + sum1;
#pragma unroll
    for (int d = 0; d < kHeadDim / 8; ++d) {
      o[d][0] *= alpha0;
      o[d][1] *= alpha0;
      o[d][2] *= alpha1;
      o[d][3] *= alpha1;
    }

    ptx::cp_async_wait<0>();  // V is in
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
      const bf16* vrow = vs + (kk * 16 + (lane & 15)) * kLds;
#pragma unroll
      for (int d = 0; d < kHeadDim / 8; ++d) {
        unsigned b0, b1;
        ptx::ldmatrix_x2_trans(b0, b1, vrow + d * 8);
        ptx::mma_bf16(o[d], pa[kk], b0, b1);
      }
    }
  }

#pragma unroll
  for (int off = 1; off < 4; off *= 2) {
    l0 += __shfl_xor_sync(0xffffffffu, l0, off);
    l1 += __shfl_xor_sync(0xffffffffu, l1, off);
  }
  const float inv0 = 1.f / l0, inv1 = 1.f / l1;
  bf16* out0 = b.out + static_cast<long long>(qbeg + q0 + row0) * b.out_stride + qh * kHeadDim + qd * 2;
  bf16* out1 = out0 + 8LL * b.out_stride;
#pragma unroll
  for (int d = 0; d < kHeadDim / 8; ++d) {
    if (row0 < rows)
      *reinterpret_cast<__nv_bfloat162*>(out0 + d * 8) = __floats2bfloat162_rn(o[d][0] * inv0, o[d][1] * inv0);
    if (row0 + 8 < rows)
      *reinterpret_cast<__nv_bfloat162*>(out1 + d * 8) = __floats2bfloat162_rn(o[d][2] * inv1, o[d][3] * inv1);
  }
}

}  // namespace

std::vector<int2> prefill_tiles(const std::vector<int>& chunk_lens) {
  std::vector<int2> tiles;
  for (int s = 0; s < static_cast<int>(chunk_lens.size()); ++s)
    for (int r = 0; r < chunk_lens[s]; r += kBlockM) tiles.push_back(make_int2(s, r));
  return tiles;
}

void prefill_attention(const PrefillBatch& b, const PagedKv& kv, const AttentionHeads& h, cudaStream_t s) {
  if (b.num_tiles == 0) return;
  check_heads(h, kv, "prefill_attention");
  if (b.q_stride % 8 != 0 || b.out_stride % 2 != 0)
    throw CudaError("prefill_attention: q rows must be 16-byte aligned");
  // Over 48 KB of dynamic shared memory needs the kernel's limit raised, once per device.
  static std::atomic<unsigned long long> configured{0};
  int dev = 0;
  KUNSIM_CUDA(cudaGetDevice(&dev));
  if (!(configured.load() >> (dev & 63) & 1)) {
    KUNSIM_CUDA(cudaFuncSetAttribute(prefill_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes));
    configured.fetch_or(1ull << (dev & 63));
  }
  KUNSIM_LAUNCH(prefill_kernel, dim3(b.num_tiles, h.q_heads), kWarps * 32, kSmemBytes, s, b, kv, h);
  KUNSIM_CUDA_LAUNCHED("prefill_kernel");
}

}  // namespace kunsim::gpu
