// bf16 on both sides: the device type, and host conversions (round to nearest even) that the
// harness and the float64 reference tests use to make inputs and read outputs.
#pragma once
#include <cuda_bf16.h>

#include <cstdint>
#include <cstring>

namespace kunsim::gpu {

using bf16 = __nv_bfloat16;

inline std::uint16_t float_to_bf16_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | ((u & 0xffffu) ? 0x40u : 0u));
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

inline float bf16_bits_to_float(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace kunsim::gpu
