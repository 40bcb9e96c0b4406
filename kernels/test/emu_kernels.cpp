// The kernels of kernels/, compiled as host C++ for the CPU emulator (test/cuda_emu.hpp is
// force-included ahead of this file; see CMakeLists.txt). cuBLASLt and NCCL are not emulated.
#include "kernels/prefill_attention.cu"
#include "kernels/decode_attention.cu"
#include "kernels/kv_write.cu"
#include "kernels/elementwise.cu"
