#include "kernels/random_fill.hpp"

#include "kernels/cuda_check.hpp"
#include "kernels/launch.cuh"

namespace kunsim::gpu {
namespace {

__device__ __forceinline__ std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

__global__ void fill_random_kernel(bf16* p, std::size_t n, std::uint64_t seed, float scale) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x) {
    const std::uint64_t h = splitmix(seed ^ splitmix(i));
    const float u = static_cast<float>(h >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    p[i] = __float2bfloat16((2.f * u - 1.f) * scale);
  }
}

}  // namespace

void fill_random(bf16* p, std::size_t n, std::uint64_t seed, float scale, cudaStream_t s) {
  if (n == 0) return;
  KUNSIM_LAUNCH(fill_random_kernel, 132 * 8, 256, 0, s, p, n, seed, scale);
  KUNSIM_CUDA_LAUNCHED("fill_random_kernel");
}

}  // namespace kunsim::gpu
