// How kernels/ launches a kernel and declares its dynamic shared memory. On the GPU these are
// the CUDA forms; built for the CPU emulator (KUNSIM_EMU, kernels/test/cuda_emu.hpp) the same
// kernel source runs as host threads, so CI, which has no GPU, still executes every kernel.
#pragma once

#ifdef KUNSIM_EMU
#define KUNSIM_LAUNCH(kernel, grid, block, smem, stream, ...) \
  ((void)(stream), ::kunsim::emu::launch((grid), (block), (smem), [&] { kernel(__VA_ARGS__); }))
#define KUNSIM_DYNAMIC_SMEM(name) unsigned char* name = ::kunsim::emu::dynamic_shared()
#else
#define KUNSIM_LAUNCH(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#define KUNSIM_DYNAMIC_SMEM(name) extern __shared__ __align__(16) unsigned char name[]
#endif
