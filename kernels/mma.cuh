// The few PTX instructions the tensor-core kernels use, wrapped once (sm_80 and later):
// cp.async (global -> shared, bypassing registers, zero-filled when the source is out of range),
// ldmatrix (shared -> the fragment layout mma expects) and mma.sync m16n8k16 bf16 -> f32.
// Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16"): with g = lane / 4 and
// q = lane % 4, A holds rows g and g+8, columns 2q, 2q+1 and 2q+8, 2q+9; B holds columns g,
// rows 2q, 2q+1 and 2q+8, 2q+9; C holds rows g and g+8, columns 2q and 2q+1.
#pragma once
#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>

#include "kernels/bf16.hpp"

namespace kunsim::gpu::ptx {

#ifndef KUNSIM_EMU
__device__ __forceinline__ unsigned smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// Copies 16 bytes, or writes 16 zero bytes when `valid` is false (the source is then not read).
// Every cp.async statement carries a "memory" clobber: shared memory changes behind the
// compiler's back, so it must neither move shared loads above a wait nor keep values read
// before it in registers across it (volatile alone orders only the asm statements).
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(valid ? 16 : 0)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending) : "memory");
}

// Two 8x8 b16 matrices, transposed: lanes 0-7 address matrix 0's rows, lanes 8-15 matrix 1's.
__device__ __forceinline__ void ldmatrix_x2_trans(unsigned& r0, unsigned& r1, const void* row) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
               : "=r"(r0), "=r"(r1)
               : "r"(smem_addr(row)));
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

#else
// CPU emulation (kernels/test/cuda_emu.hpp): the same semantics, lane by lane, with the
// warp's lanes meeting at each collective instruction.
__device__ __forceinline__ void cp_async16(void* dst, const void* src, bool valid) {
  ::kunsim::emu::ctx.copies->queued.push_back({dst, src, valid});
}
__device__ __forceinline__ void cp_async_commit() { ::kunsim::emu::ctx.copies->commit(); }
template <int Pending>
__device__ __forceinline__ void cp_async_wait() {
  ::kunsim::emu::ctx.copies->wait(Pending);
}

__device__ __forceinline__ unsigned b16_pair(std::uint16_t lo, std::uint16_t hi) {
  return static_cast<unsigned>(lo) | (static_cast<unsigned>(hi) << 16);
}

__device__ __forceinline__ void ldmatrix_x2_trans(unsigned& r0, unsigned& r1, const void* row) {
  struct Out {
    unsigned r[2];
  };
  const Out o = ::kunsim::emu::warp_collective<const void*, Out>(row, [](int lane, auto&& get) {
    Out out{};
    const int g = lane / 4, q = lane % 4;
    for (int m = 0; m < 2; ++m) {
      const auto* lo = static_cast<const std::uint16_t*>(get(m * 8 + 2 * q));
      const auto* hi = static_cast<const std::uint16_t*>(get(m * 8 + 2 * q + 1));
      out.r[m] = b16_pair(lo[g], hi[g]);
    }
    return out;
  });
  r0 = o.r[0];
  r1 = o.r[1];
}

__device__ __forceinline__ void mma_bf16(float (&c)[4], const unsigned (&a)[4], unsigned b0, unsigned b1) {
  struct In {
    unsigned a[4], b[2];
    float c[4];
  };
  struct Out {
    float d[4];
  };
  In in{};
  for (int i = 0; i < 4; ++i) in.a[i] = a[i], in.c[i] = c[i];
  in.b[0] = b0;
  in.b[1] = b1;
  const Out o = ::kunsim::emu::warp_collective<In, Out>(in, [](int lane, auto&& get) {
    float A[16][16], B[16][8];
    auto lo = [](unsigned v) { return bf16_bits_to_float(static_cast<std::uint16_t>(v & 0xffffu)); };
    auto hi = [](unsigned v) { return bf16_bits_to_float(static_cast<std::uint16_t>(v >> 16)); };
    for (int l = 0; l < 32; ++l) {
      const In x = get(l);
      const int g = l / 4, q = l % 4;
      for (int half = 0; half < 2; ++half) {  // columns 2q.. and 2q+8..
        A[g][2 * q + 8 * half] = lo(x.a[2 * half]);
        A[g][2 * q + 8 * half + 1] = hi(x.a[2 * half]);
        A[g + 8][2 * q + 8 * half] = lo(x.a[2 * half + 1]);
        A[g + 8][2 * q + 8 * half + 1] = hi(x.a[2 * half + 1]);
        B[2 * q + 8 * half][g] = lo(x.b[half]);
        B[2 * q + 8 * half + 1][g] = hi(x.b[half]);
      }
    }
    const In mine = get(lane);
    const int g = lane / 4, q = lane % 4;
    Out out{};
    for (int e = 0; e < 4; ++e) {
      const int r = g + (e >= 2 ? 8 : 0), col = 2 * q + (e & 1);
      float acc = mine.c[e];
      for (int k = 0; k < 16; ++k) acc += A[r][k] * B[k][col];
      out.d[e] = acc;
    }
    return out;
  });
  for (int i = 0; i < 4; ++i) c[i] = o.d[i];
}

#endif

// Two floats as one bf16x2 register, the first in the low half (the lower column).
__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  unsigned bits;
  memcpy(&bits, &v, sizeof bits);  // a register move on the GPU; no aliasing games on the host
  return bits;
}

__device__ __forceinline__ unsigned ld_shared_u32(const __nv_bfloat16* p) {
  return *reinterpret_cast<const unsigned*>(p);
}

}  // namespace kunsim::gpu::ptx
