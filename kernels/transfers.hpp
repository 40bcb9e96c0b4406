// Transfers the cost model prices, on the GPUs of this machine, driven from one process:
//   H2D / D2H   cudaMemcpyAsync between pinned host memory and GPU 0 (PCIe: swap, restore)
//   D2D         a copy inside GPU 0 (the device-bandwidth ceiling decode attention is held to)
//   P2P         GPU 0 -> GPU 1 peer copy (NVLink where present: weights and KV between instances)
//   all_reduce  NCCL, bf16 sum in place over the first `ranks` GPUs (tensor parallelism)
//   send_recv   NCCL, GPU 0 -> GPU 1 (pipeline stages, KV exchange)
// NCCL ops need NCCL at build time (KUNSIM_HAVE_NCCL) and at least two GPUs; has_nccl() says.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "kernels/bf16.hpp"
#include "kernels/device_buffer.hpp"

namespace kunsim::gpu {

class Transfers {
 public:
  enum class Copy { H2D, D2H, D2D, P2P };

  // Buffers of `max_bytes` on every visible GPU (two on GPU 0, for D2D) and in pinned host memory.
  explicit Transfers(std::size_t max_bytes);
  ~Transfers();
  Transfers(const Transfers&) = delete;
  Transfers& operator=(const Transfers&) = delete;

  int gpus() const { return static_cast<int>(streams_.size()); }
  bool peer_access() const { return peer_; }
  bool has_nccl() const;

  void copy(Copy kind, std::size_t bytes);
  void all_reduce(std::size_t bytes, int ranks);
  void send_recv(std::size_t bytes);
  void synchronize();  // every GPU's stream

  bf16* device(int gpu) const { return bufs_[gpu].get(); }
  bf16* device_scratch() const { return scratch_.get(); }
  bf16* host() const { return host_.get(); }
  cudaStream_t stream(int gpu) const { return streams_[gpu]; }

 private:
  struct Nccl;
  std::vector<DeviceBuffer<bf16>> bufs_;
  DeviceBuffer<bf16> scratch_;
  PinnedBuffer<bf16> host_;
  std::vector<cudaStream_t> streams_;
  bool peer_ = false;
  std::unique_ptr<Nccl> nccl_;
};

}  // namespace kunsim::gpu
