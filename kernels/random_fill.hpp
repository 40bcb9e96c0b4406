// fill_random: uniform values in [-scale, scale) from a counter-based hash of (seed, index), so
// large weight and cache buffers are filled on the GPU in one pass, reproducibly. Calibration
// never times zeros: they hide wrong indexing and can run faster than real data.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/bf16.hpp"

namespace kunsim::gpu {

void fill_random(bf16* p, std::size_t n, std::uint64_t seed, float scale, cudaStream_t s);

}  // namespace kunsim::gpu
