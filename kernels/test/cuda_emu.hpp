// A CPU emulator for kernels/: force-included (-include) ahead of the kernel sources when they are
// compiled as host C++ with KUNSIM_EMU, so the very same kernel code runs where no GPU is (CI).
// Each block's threads run as fibers on one host thread; __syncthreads is a barrier over them;
// the lanes of a warp meet at each collective (shuffle, ldmatrix, mma) and each computes its
// result from all 32 lanes' inputs, as the hardware defines it; cp.async copies land at their
// wait. Shared memory is one buffer per running block (blocks run one at a time). What it
// checks: indexing, masking, fragment layouts as the PTX ISA specifies them, and the barriers
// and waits between shared-memory writes and reads. What it cannot: speed, and hardware
// behaviour that differs from the specification as read here.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <boost/context/fiber.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
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

// Cooperative threads: every GPU thread of a block is a fiber on the one host thread, and a
// fiber gives way only where a GPU thread could wait for others (a barrier). Deterministic,
// and far cheaper than host threads that the OS must wake at every warp instruction.
// One thread's cp.async copies: queued at issue, done at the cp.async.wait_group that covers
// their group, the latest moment the hardware may complete them. A kernel that reads shared
// memory before waiting for its copy reads stale data here, as it could on the GPU.
struct AsyncCopies {
  struct Copy {
    void* dst;
    const void* src;
    bool valid;
  };
  std::vector<Copy> queued;
  std::vector<std::size_t> group_ends;  // queued.size() at each commit
  std::size_t done = 0;

  void commit() { group_ends.push_back(queued.size()); }
  void wait(std::size_t pending) {
    if (group_ends.size() <= pending) return;
    const std::size_t upto = group_ends[group_ends.size() - 1 - pending];
    for (; done < upto; ++done) {
      const Copy& c = queued[done];
      if (c.valid) std::memcpy(c.dst, c.src, 16);
      else std::memset(c.dst, 0, 16);
    }
  }
};

struct ThreadContext {
  uint3 thread{}, block{};
  dim3 block_dim, grid_dim;
  struct Block* running = nullptr;
  AsyncCopies* copies = nullptr;
};
inline ThreadContext ctx;  // the running fiber's; the scheduler swaps it in

class Scheduler {
 public:
  static Scheduler& get() {
    static Scheduler s;
    return s;
  }
  // Runs work(t) for t < threads as fibers until all return.
  void run(int threads, const std::function<void(int)>& work, const std::function<ThreadContext(int)>& context) {
    constexpr std::size_t kStack = 256 << 10;
    while (static_cast<int>(fibers_.size()) < threads) fibers_.push_back(std::make_unique<Fiber>(kStack));
    work_ = &work;
    for (int t = 0; t < threads; ++t) {
      Fiber& f = *fibers_[t];
      f.done = false;
      f.ctx = context(t);
      f.self = boost::context::fiber(std::allocator_arg, ReusedStack{&f.stack}, [this, t](boost::context::fiber&& sink) {
        Fiber& me = *fibers_[t];
        me.sink = std::move(sink);
        (*work_)(t);
        me.done = true;
        return std::move(me.sink);  // back to the scheduler, for good
      });
    }
    for (int left = threads; left > 0;)
      for (int t = 0; t < threads; ++t) {
        Fiber& f = *fibers_[t];
        if (f.done) continue;
        current_ = t;
        ctx = f.ctx;
        f.self = std::move(f.self).resume();
        if (f.done) --left;
      }
  }
  void yield() {
    Fiber& f = *fibers_[current_];
    f.sink = std::move(f.sink).resume();
  }

 private:
  // Boost.Context switches fibers in user space. glibc's swapcontext, used before, also saved
  // and restored the signal mask with a system call at every switch: about half the emulator's
  // time went to the kernel.
  struct ReusedStack {  // a fiber's stack, kept from one launch to the next
    std::vector<char>* memory;
    boost::context::stack_context allocate() {
      boost::context::stack_context sc;
      sc.size = memory->size();
      sc.sp = memory->data() + memory->size();  // stacks grow down
      return sc;
    }
    void deallocate(boost::context::stack_context&) noexcept {}
  };
  struct Fiber {
    explicit Fiber(std::size_t stack_bytes) : stack(stack_bytes) {}
    std::vector<char> stack;
    boost::context::fiber self;  // resumes this GPU thread
    boost::context::fiber sink;  // from inside it: resumes the scheduler
    ThreadContext ctx;
    bool done = false;
  };
  std::vector<std::unique_ptr<Fiber>> fibers_;
  const std::function<void(int)>* work_ = nullptr;
  int current_ = 0;
};

// All `expected` fibers arrive before any leaves.
struct Barrier {
  explicit Barrier(int n) : expected(n) {}
  void arrive_and_wait() {
    const unsigned generation = gen;
    if (++arrived == expected) {
      arrived = 0;
      ++gen;
      return;
    }
    while (gen == generation) Scheduler::get().yield();
  }
  int expected, arrived = 0;
  unsigned gen = 0;
};

struct Warp {
  Barrier meet{32};
  alignas(16) unsigned char slots[32][64];
};

struct Block {
  explicit Block(int threads, std::size_t smem)
      : sync(threads), warps((threads + 31) / 32), shared(smem + 16), copies(threads) {}
  Barrier sync;
  std::vector<Warp> warps;
  std::vector<unsigned char> shared;
  std::vector<AsyncCopies> copies;  // per thread
};

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

// A runtime call that has nothing to do here (a function, so an unused result warns nobody).
inline cudaError_t ok() { return cudaSuccess; }

// Runs body() once per thread of every block, block after block.
template <class Body>
void launch(dim3 grid, dim3 block, std::size_t smem, Body&& body) {
  const int threads = static_cast<int>(block.x * block.y * block.z);
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        Block running(threads, smem);
        const std::function<void(int)> work = [&](int) { body(); };
        const std::function<ThreadContext(int)> context = [&](int t) {
          ThreadContext c;
          c.thread = make_uint3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
          c.block = make_uint3(bx, by, bz);
          c.block_dim = block;
          c.grid_dim = grid;
          c.running = &running;
          c.copies = &running.copies[t];
          return c;
        };
        Scheduler::get().run(threads, work, context);
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
#define cudaDeviceSynchronize() ::kunsim::emu::ok()
#define cudaGetLastError() ::kunsim::emu::ok()
#define cudaGetDevice(p) ((*(p) = 0), cudaSuccess)
#define cudaFuncSetAttribute(...) ::kunsim::emu::ok()

// What the calibration harness calls besides: one emulated device with a little memory;
// streams run everything at once (so events time the emulated work); graphs are recorded by
// running their launches, and replaying one does nothing.
namespace kunsim::emu {

constexpr std::size_t kEmulatedMemory = 64u << 20;

struct Event {
  std::chrono::steady_clock::time_point at;
};

inline cudaError_t event_elapsed(float* ms, cudaEvent_t start, cudaEvent_t stop) {
  const auto* a = reinterpret_cast<const Event*>(start);
  const auto* b = reinterpret_cast<const Event*>(stop);
  *ms = std::chrono::duration<float, std::milli>(b->at - a->at).count();
  return cudaSuccess;
}

inline cudaError_t properties(cudaDeviceProp* p) {
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "CPU emulation");
  p->multiProcessorCount = 4;
  p->l2CacheSize = 1 << 20;
  p->totalGlobalMem = kEmulatedMemory;
  return cudaSuccess;
}

inline int attribute(cudaDeviceAttr a) {
  if (a == cudaDevAttrMultiProcessorCount) return 4;
  if (a == cudaDevAttrL2CacheSize) return 1 << 20;  // as properties() says
  return 0;
}

}  // namespace kunsim::emu

#define cudaGetDeviceCount(n) ((*(n) = 1), cudaSuccess)
#define cudaSetDevice(d) ::kunsim::emu::ok()
#define cudaGetDeviceProperties(p, dev) ::kunsim::emu::properties(p)
#define cudaDeviceGetAttribute(v, attr, dev) ((*(v) = ::kunsim::emu::attribute(attr)), cudaSuccess)
#define cudaDriverGetVersion(v) ((*(v) = CUDART_VERSION), cudaSuccess)
#define cudaRuntimeGetVersion(v) ((*(v) = CUDART_VERSION), cudaSuccess)
#define cudaMemGetInfo(free_bytes, total) \
  ((*(free_bytes) = ::kunsim::emu::kEmulatedMemory), (*(total) = ::kunsim::emu::kEmulatedMemory), cudaSuccess)
#define cudaDeviceCanAccessPeer(can, a, b) ((*(can) = 0), cudaSuccess)
#define cudaDeviceEnablePeerAccess(dev, flags) ::kunsim::emu::ok()
#define cudaMemcpyAsync(dst, src, bytes, kind, stream) ((void)(stream), cudaMemcpy(dst, src, bytes, kind))
#define cudaMemcpyPeerAsync(dst, dd, src, sd, bytes, stream) ((void)(stream), cudaMemcpy(dst, src, bytes, 0))
#define cudaStreamCreateWithFlags(s, flags) ((*(s) = nullptr), cudaSuccess)
#define cudaStreamDestroy(s) ::kunsim::emu::ok()
#define cudaStreamSynchronize(s) ((void)(s), cudaSuccess)
#define cudaEventCreate(e) ((*(e) = reinterpret_cast<cudaEvent_t>(new ::kunsim::emu::Event)), cudaSuccess)
#define cudaEventDestroy(e) (delete reinterpret_cast<::kunsim::emu::Event*>(e), cudaSuccess)
#define cudaEventRecord(e, s) \
  ((reinterpret_cast<::kunsim::emu::Event*>(e)->at = std::chrono::steady_clock::now()), cudaSuccess)
#define cudaEventSynchronize(e) ::kunsim::emu::ok()
#define cudaEventElapsedTime(ms, a, b) ::kunsim::emu::event_elapsed(ms, a, b)
#define cudaStreamBeginCapture(s, mode) ::kunsim::emu::ok()
#define cudaStreamEndCapture(s, g) ((*(g) = nullptr), cudaSuccess)
#define cudaGraphInstantiate(e, g, flags) ((*(e) = nullptr), cudaSuccess)
#define cudaGraphLaunch(e, s) ::kunsim::emu::ok()
#define cudaGraphExecDestroy(e) ::kunsim::emu::ok()
#define cudaGraphDestroy(g) ::kunsim::emu::ok()
