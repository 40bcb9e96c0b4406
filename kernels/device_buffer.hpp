// DeviceBuffer<T>: one cudaMalloc'd array, freed with its owner. PinnedBuffer<T>: page-locked
// host memory for transfers that run at PCIe speed. Plain allocations only (no managed memory:
// oversubscribing it can hang the GPU).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <utility>

#include "kernels/cuda_check.hpp"

namespace kunsim::gpu {

struct DeviceAlloc {
  static cudaError_t allocate(void** p, std::size_t bytes) { return cudaMalloc(p, bytes); }
  static void release(void* p) { cudaFree(p); }
};
struct PinnedAlloc {
  static cudaError_t allocate(void** p, std::size_t bytes) { return cudaMallocHost(p, bytes); }
  static void release(void* p) { cudaFreeHost(p); }
};

template <class T, class Alloc>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::size_t n) : n_(n) {
    if (n > 0) KUNSIM_CUDA(Alloc::allocate(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  Buffer(Buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (p_) Alloc::release(p_);
  }
  T* get() const { return p_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

 private:
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

template <class T>
using DeviceBuffer = Buffer<T, DeviceAlloc>;
template <class T>
using PinnedBuffer = Buffer<T, PinnedAlloc>;

}  // namespace kunsim::gpu
