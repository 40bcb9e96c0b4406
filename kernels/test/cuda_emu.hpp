// A CPU emulator for kernels/: force-included (-include) ahead of the kernel sources when they are
// compiled as host C++ with KUNSIM_EMU, so the very same kernel code runs where no GPU is (CI).
// Each block runs as blockDim host threads; __syncthreads is a barrier over them; the lanes of a
// warp meet at each collective (shuffle, ldmatrix, mma) and each computes its result from all
// 32 lanes' inputs, as the hardware defines it. Shared memory is one buffer per running block
// (blocks run one at a time). What it checks: indexing, masking, fragment layouts as the PTX ISA
// specifies them, and the barriers between shared-memory writes and reads. What it cannot:
// speed, and hardware behaviour that differs from the specification as read here.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <barrier>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

// The CUDA headers give these GPU meanings; as host code they are plain functions and statics.
#undef __global__
#undef __device__
#undef __host__
#undef __shared__
#undef __launch_bounds__
#undef __forceinline__
#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __launch_bounds__(...)
#define __forceinline__ inline

namespace kunsim::emu {

struct Warp {
  std::barrier<> meet{32};
  alignas(16) unsigned char slots[32][64];
};

struct Block {
  explicit Block(int threads, std::size_t smem) : sync(threads), warps((threads + 31) / 32), shared(smem + 16) {}
  std::barrier<> sync;
  std::vector<Warp> warps;
  std::vector<unsigned char> shared;
};

struct ThreadContext {
  uint3 thread{}, block{};
  dim3 block_dim, grid_dim;
  Block* running = nullptr;
};
inline thread_local ThreadContext ctx;

inline unsigned char* dynamic_shared() {
  auto p = reinterpret_cast<std::uintptr_t>(ctx.running->shared.data());
  return reinterpret_cast<unsigned char*>((p + 15) & ~std::uintptr_t{15});
}

// Every lane of the warp hands in `in`; each gets f(lane, get) where get(l) is lane l's input.
template <class In, class Out, class F>
Out warp_collective(const In& in, F&& f) {
  static_assert(sizeof(In) <= 64, "lane input too large");
  const int linear = static_cast<int>(ctx.thread.x + ctx.block_dim.x * (ctx.thread.y + ctx.block_dim.y * ctx.thread.z));
  Warp& w = ctx.running->warps[linear / 32];
  const int lane = linear % 32;
  std::memcpy(w.slots[lane], &in, sizeof(In));
  w.meet.arrive_and_wait();
  auto get = [&](int l) {
    In v;
    std::memcpy(&v, w.slots[l], sizeof(In));
    return v;
  };
  const Out out = f(lane, get);
  w.meet.arrive_and_wait();  // nobody overwrites a slot before every lane has read it
  return out;
}

inline float bf16_bits(std::uint16_t b) {
  const std::uint32_t u = static_cast<std::uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Host threads kept across blocks and launches (creating a thread per GPU thread per block
// would dominate the run time): each block is a generation; workers 0..threads-1 take part.
class ThreadPool {
 public:
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& t : workers_) t.join();
  }
  void run_block(int threads, const std::function<void(int)>& work) {
    while (static_cast<int>(workers_.size()) < threads) {
      const int id = static_cast<int>(workers_.size());
      workers_.emplace_back([this, id] { loop(id); });
    }
    std::unique_lock<std::mutex> lock(mu_);
    work_ = &work;
    active_ = threads;
    remaining_ = threads;
    ++generation_;
    start_.notify_all();
    done_.wait(lock, [&] { return remaining_ == 0; });
  }

 private:
  void loop(int id) {
    unsigned long long seen = 0;
    for (;;) {
      const std::function<void(int)>* work;
      {
        std::unique_lock<std::mutex> lock(mu_);
        start_.wait(lock, [&] { return stop_ || (generation_ != seen && id < active_); });
        if (stop_) return;
        seen = generation_;
        work = work_;
      }
      (*work)(id);
      std::lock_guard<std::mutex> lock(mu_);
      if (--remaining_ == 0) done_.notify_one();
    }
  }
  std::mutex mu_;
  std::condition_variable start_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* work_ = nullptr;
  unsigned long long generation_ = 0;
  int active_ = 0, remaining_ = 0;
  bool stop_ = false;
};

inline ThreadPool& thread_pool() {
  static ThreadPool pool;  // one for every launch site
  return pool;
}

// Runs body() once per thread of every block, block after block.
template <class Body>
void launch(dim3 grid, dim3 block, std::size_t smem, Body&& body) {
  ThreadPool& pool = thread_pool();
  const int threads = static_cast<int>(block.x * block.y * block.z);
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        Block running(threads, smem);
        const std::function<void(int)> work = [&](int t) {
          ctx.thread = make_uint3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
          ctx.block = make_uint3(bx, by, bz);
          ctx.block_dim = block;
          ctx.grid_dim = grid;
          ctx.running = &running;
          body();
        };
        pool.run_block(threads, work);
      }
}

template <class T>
T shfl_xor(T v, int offset) {
  return warp_collective<T, T>(v, [offset](int lane, auto&& get) { return get(lane ^ offset); });
}

}  // namespace kunsim::emu

#define threadIdx (::kunsim::emu::ctx.thread)
#define blockIdx (::kunsim::emu::ctx.block)
#define blockDim (::kunsim::emu::ctx.block_dim)
#define gridDim (::kunsim::emu::ctx.grid_dim)
#define __syncthreads() (::kunsim::emu::ctx.running->sync.arrive_and_wait())
#define __shfl_xor_sync(mask, v, offset) ::kunsim::emu::shfl_xor((v), (offset))

template <class T>
inline T __ldg(const T* p) {
  return *p;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
using std::max;
using std::min;

// The runtime calls kernels/ and its check make, on host memory.
#define cudaMalloc(pp, bytes) ((*(pp) = std::malloc((bytes) > 0 ? (bytes) : 1)), cudaSuccess)
#define cudaMallocHost(pp, bytes) cudaMalloc(pp, bytes)
#define cudaFree(p) (std::free(p), cudaSuccess)
#define cudaFreeHost(p) cudaFree(p)
#define cudaMemcpy(dst, src, bytes, kind) \
  (std::memcpy(static_cast<void*>(dst), static_cast<const void*>(src), (bytes)), cudaSuccess)
#define cudaDeviceSynchronize() cudaSuccess
#define cudaGetLastError() cudaSuccess
#define cudaGetDevice(p) ((*(p) = 0), cudaSuccess)
#define cudaFuncSetAttribute(...) cudaSuccess
