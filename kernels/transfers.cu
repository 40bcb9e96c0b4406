#include "kernels/transfers.hpp"

#include <string>

#include "kernels/cuda_check.hpp"

#if KUNSIM_HAVE_NCCL
#include <nccl.h>
#endif

namespace kunsim::gpu {

#if KUNSIM_HAVE_NCCL
namespace {
void check_nccl(ncclResult_t r, const char* what) {
  if (r != ncclSuccess) throw CudaError(std::string("NCCL: ") + what + ": " + ncclGetErrorString(r));
}
}  // namespace

// One communicator per prefix of the GPUs (2..n ranks), each made by ncclCommInitAll.
struct Transfers::Nccl {
  std::vector<std::vector<ncclComm_t>> by_ranks;  // [ranks] -> comms, for ranks >= 2
  ~Nccl() {
    for (auto& comms : by_ranks)
      for (ncclComm_t c : comms) ncclCommDestroy(c);
  }
};
#else
struct Transfers::Nccl {};
#endif

Transfers::Transfers(std::size_t max_bytes) {
  int n = 0;
  KUNSIM_CUDA(cudaGetDeviceCount(&n));
  const std::size_t elems = (max_bytes + sizeof(bf16) - 1) / sizeof(bf16);
  for (int d = 0; d < n; ++d) {
    KUNSIM_CUDA(cudaSetDevice(d));
    bufs_.emplace_back(elems);
    cudaStream_t s;
    KUNSIM_CUDA(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    streams_.push_back(s);
  }
  KUNSIM_CUDA(cudaSetDevice(0));
  scratch_ = DeviceBuffer<bf16>(elems);
  host_ = PinnedBuffer<bf16>(elems);
  if (n >= 2) {
    int can = 0;
    KUNSIM_CUDA(cudaDeviceCanAccessPeer(&can, 0, 1));
    if (can) {
      const cudaError_t e = cudaDeviceEnablePeerAccess(1, 0);
      if (e != cudaSuccess && e != cudaErrorPeerAccessAlreadyEnabled) KUNSIM_CUDA(e);
      cudaGetLastError();
      peer_ = true;
    }
  }
#if KUNSIM_HAVE_NCCL
  if (n >= 2) {
    nccl_ = std::make_unique<Nccl>();
    nccl_->by_ranks.resize(n + 1);
    for (int r = 2; r <= n; ++r) {
      nccl_->by_ranks[r].resize(r);
      std::vector<int> devs(r);
      for (int i = 0; i < r; ++i) devs[i] = i;
      check_nccl(ncclCommInitAll(nccl_->by_ranks[r].data(), r, devs.data()), "ncclCommInitAll");
    }
  }
#endif
}

Transfers::~Transfers() {
  nccl_.reset();
  for (std::size_t d = 0; d < streams_.size(); ++d) {
    cudaSetDevice(static_cast<int>(d));
    cudaStreamDestroy(streams_[d]);
  }
  cudaSetDevice(0);
}

bool Transfers::has_nccl() const { return nccl_ != nullptr; }

void Transfers::copy(Copy kind, std::size_t bytes) {
  cudaStream_t s = streams_[0];
  switch (kind) {
    case Copy::H2D: KUNSIM_CUDA(cudaMemcpyAsync(bufs_[0].get(), host_.get(), bytes, cudaMemcpyHostToDevice, s)); break;
    case Copy::D2H: KUNSIM_CUDA(cudaMemcpyAsync(host_.get(), bufs_[0].get(), bytes, cudaMemcpyDeviceToHost, s)); break;
    case Copy::D2D:
      KUNSIM_CUDA(cudaMemcpyAsync(scratch_.get(), bufs_[0].get(), bytes, cudaMemcpyDeviceToDevice, s));
      break;
    case Copy::P2P:
      if (gpus() < 2) throw CudaError("peer copy: needs two GPUs");
      KUNSIM_CUDA(cudaMemcpyPeerAsync(bufs_[1].get(), 1, bufs_[0].get(), 0, bytes, s));
      break;
  }
}

void Transfers::all_reduce(std::size_t bytes, int ranks) {
#if KUNSIM_HAVE_NCCL
  if (!nccl_ || ranks < 2 || ranks > gpus()) throw CudaError("all_reduce: needs 2.." + std::to_string(gpus()) + " GPUs");
  const std::size_t count = bytes / sizeof(bf16);
  check_nccl(ncclGroupStart(), "group start");
  for (int r = 0; r < ranks; ++r)
    check_nccl(ncclAllReduce(bufs_[r].get(), bufs_[r].get(), count, ncclBfloat16, ncclSum, nccl_->by_ranks[ranks][r],
                             streams_[r]),
               "all-reduce");
  check_nccl(ncclGroupEnd(), "group end");
#else
  (void)bytes;
  (void)ranks;
  throw CudaError("all_reduce: built without NCCL");
#endif
}

void Transfers::send_recv(std::size_t bytes) {
#if KUNSIM_HAVE_NCCL
  if (!nccl_) throw CudaError("send_recv: needs two GPUs");
  const std::size_t count = bytes / sizeof(bf16);
  check_nccl(ncclGroupStart(), "group start");
  check_nccl(ncclSend(bufs_[0].get(), count, ncclBfloat16, 1, nccl_->by_ranks[2][0], streams_[0]), "send");
  check_nccl(ncclRecv(bufs_[1].get(), count, ncclBfloat16, 0, nccl_->by_ranks[2][1], streams_[1]), "recv");
  check_nccl(ncclGroupEnd(), "group end");
#else
  (void)bytes;
  throw CudaError("send_recv: built without NCCL");
#endif
}

void Transfers::synchronize() {
  for (std::size_t d = 0; d < streams_.size(); ++d) {
    KUNSIM_CUDA(cudaSetDevice(static_cast<int>(d)));
    KUNSIM_CUDA(cudaStreamSynchronize(streams_[d]));
  }
  KUNSIM_CUDA(cudaSetDevice(0));
}

}  // namespace kunsim::gpu
