// The transfer and fill kernels for the CPU emulator (NCCL left out: one emulated GPU).
#include "kernels/random_fill.cu"
#include "kernels/transfers.cu"
