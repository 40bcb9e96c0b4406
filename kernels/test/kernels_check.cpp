// kunsim-kernels-check: every kernel in kernels/ against a float64 CPU reference, on fresh random
// inputs each run (the seed is printed; --seed N repeats a run). Outputs are poisoned with NaN
// before each launch, so an element the kernel failed to write fails the check. Error is
// ||out - ref|| / ||ref||: bf16 operands and outputs must land under 1e-2; NaN never passes.
// Prints one line per check and "N passed, M failed"; exits 0, 1 on any failure, 77 without a GPU.
// Built with KUNSIM_EMU it runs the same checks on the CPU emulator (test/cuda_emu.hpp), less
// cuBLASLt and the transfers, on smaller shapes: what CI can run without a GPU.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/test/check_support.hpp"
#include "kernels/elementwise.hpp"
#ifndef KUNSIM_EMU
#include "kernels/gemm.hpp"
#include "kernels/transfers.hpp"
#endif

namespace {

using namespace kunsim::gpu;
using namespace kunsim::gpu::check;

// ---- element-wise -------------------------------------------------------------------------

void check_rms_norm(bool with_residual) {
  const int tokens = 19, hidden = 4096 + 8 * 3;
  const double eps = 1e-5;
  const Host x = random_bf16(static_cast<std::size_t>(tokens) * hidden), w = random_bf16(hidden, 0.5),
             r = random_bf16(x.size());
  auto dx = upload_bf16(x), dw = upload_bf16(w), dr = upload_bf16(r);
  DeviceBuffer<bf16> dout(x.size());
  poison(dout);
  rms_norm(dout.get(), dx.get(), with_residual ? dr.get() : nullptr, dw.get(), tokens, hidden, static_cast<float>(eps), 0);
  const Host out = download(dout);
  std::vector<double> ref(x.size()), ref_res(x.size());
  for (int t = 0; t < tokens; ++t) {
    double ss = 0;
    for (int i = 0; i < hidden; ++i) {
      const std::size_t k = static_cast<std::size_t>(t) * hidden + i;
      double v = f(x[k]);
      if (with_residual) v = f(float_to_bf16_bits(static_cast<float>(v + f(r[k]))));  // stored in bf16
      ref_res[k] = v;
      ss += v * v;
    }
    const double inv = 1.0 / std::sqrt(ss / hidden + eps);
    for (int i = 0; i < hidden; ++i) {
      const std::size_t k = static_cast<std::size_t>(t) * hidden + i;
      ref[k] = ref_res[k] * inv * f(w[i]);
    }
  }
  report(with_residual ? "rms_norm (fused residual add): output" : "rms_norm: output", rel_error(out, ref),
         kBf16Tolerance);
  if (with_residual) report("rms_norm (fused residual add): residual", rel_error(download(dr), ref_res), kBf16Tolerance);
}

void check_silu_and_mul() {
  const int tokens = 23, inter = 1024 + 8 * 5;
  const Host x = random_bf16(static_cast<std::size_t>(tokens) * 2 * inter, 2.0);
  auto dx = upload_bf16(x);
  DeviceBuffer<bf16> dout(static_cast<std::size_t>(tokens) * inter);
  poison(dout);
  silu_and_mul(dout.get(), dx.get(), tokens, inter, 0);
  std::vector<double> ref(dout.size());
  for (int t = 0; t < tokens; ++t)
    for (int i = 0; i < inter; ++i) {
      const double g = f(x[static_cast<std::size_t>(t) * 2 * inter + i]);
      const double u = f(x[static_cast<std::size_t>(t) * 2 * inter + inter + i]);
      ref[static_cast<std::size_t>(t) * inter + i] = g / (1 + std::exp(-g)) * u;
    }
  report("silu_and_mul", rel_error(download(dout), ref), kBf16Tolerance);
}

#ifndef KUNSIM_EMU
// ---- GEMM ---------------------------------------------------------------------------------

void check_gemm(Gemm& gemm, int m, int n, int k) {
  const Host x = random_bf16(static_cast<std::size_t>(m) * k), w = random_bf16(static_cast<std::size_t>(n) * k, 0.05);
  auto dx = upload_bf16(x), dw = upload_bf16(w);
  DeviceBuffer<bf16> dy(static_cast<std::size_t>(m) * n);
  poison(dy);
  gemm.linear(dx.get(), dw.get(), dy.get(), m, n, k, 0);
  std::vector<double> ref(dy.size());
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double acc = 0;
      for (int p = 0; p < k; ++p) acc += f(x[static_cast<std::size_t>(i) * k + p]) * f(w[static_cast<std::size_t>(j) * k + p]);
      ref[static_cast<std::size_t>(i) * n + j] = acc;
    }
  report("gemm (cuBLASLt) " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k),
         rel_error(download(dy), ref), kBf16Tolerance);
}

#endif


#ifndef KUNSIM_EMU
// ---- transfers ----------------------------------------------------------------------------

void check_transfers() {
  const std::size_t n = (3u << 20) + 5;  // not a power of two
  Transfers tr(n * 2);
  const Host h = random_bf16(n);
  std::memcpy(static_cast<void*>(tr.host()), h.data(), n * 2);
  tr.copy(Transfers::Copy::H2D, n * 2);
  tr.copy(Transfers::Copy::D2D, n * 2);
  KUNSIM_CUDA(cudaMemsetAsync(tr.device(0), 0, n * 2, tr.stream(0)));
  KUNSIM_CUDA(cudaMemcpyAsync(tr.device(0), tr.device_scratch(), n * 2, cudaMemcpyDeviceToDevice, tr.stream(0)));
  std::memset(static_cast<void*>(tr.host()), 0, n * 2);
  tr.copy(Transfers::Copy::D2H, n * 2);
  tr.synchronize();
  report("memcpy H2D -> D2D -> D2H round trip", std::memcmp(tr.host(), h.data(), n * 2) == 0 ? 0.0 : INFINITY, 0);
  if (tr.gpus() < 2) {
    std::printf("SKIP peer copy, all-reduce, send/recv: one GPU here\n");
    return;
  }
  tr.copy(Transfers::Copy::P2P, n * 2);
  tr.synchronize();
  Host back(n);
  KUNSIM_CUDA(cudaSetDevice(1));
  KUNSIM_CUDA(cudaMemcpy(back.data(), tr.device(1), n * 2, cudaMemcpyDeviceToHost));
  KUNSIM_CUDA(cudaSetDevice(0));
  report("peer copy GPU 0 -> 1", back == h ? 0.0 : INFINITY, 0);
  if (!tr.has_nccl()) {
    std::printf("SKIP all-reduce, send/recv: built without NCCL\n");
    return;
  }
  const int ranks = tr.gpus();
  const std::size_t count = 1u << 16;
  std::vector<Host> inputs;
  std::vector<double> ref(count, 0.0);
  for (int r = 0; r < ranks; ++r) {
    inputs.push_back(random_bf16(count));
    for (std::size_t i = 0; i < count; ++i) ref[i] += f(inputs[r][i]);
    KUNSIM_CUDA(cudaSetDevice(r));
    KUNSIM_CUDA(cudaMemcpy(tr.device(r), inputs[r].data(), count * 2, cudaMemcpyHostToDevice));
  }
  KUNSIM_CUDA(cudaSetDevice(0));
  tr.all_reduce(count * 2, ranks);
  tr.synchronize();
  Host got(count);
  KUNSIM_CUDA(cudaMemcpy(got.data(), tr.device(0), count * 2, cudaMemcpyDeviceToHost));
  report("NCCL all-reduce over " + std::to_string(ranks) + " GPUs", rel_error(got, ref), kBf16Tolerance);
  KUNSIM_CUDA(cudaMemcpy(tr.device(0), h.data(), count * 2, cudaMemcpyHostToDevice));
  tr.send_recv(count * 2);
  tr.synchronize();
  KUNSIM_CUDA(cudaSetDevice(1));
  KUNSIM_CUDA(cudaMemcpy(got.data(), tr.device(1), count * 2, cudaMemcpyDeviceToHost));
  KUNSIM_CUDA(cudaSetDevice(0));
  report("NCCL send/recv GPU 0 -> 1", std::memcmp(got.data(), h.data(), count * 2) == 0 ? 0.0 : INFINITY, 0);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = std::random_device{}();
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--seed") seed = std::stoull(argv[i + 1]);
#ifdef KUNSIM_EMU
  std::printf("kernel checks in CPU emulation, seed %llu\n", static_cast<unsigned long long>(seed));
#else
  std::string why;
  if (gpu_count(&why) == 0) {
    std::printf("skipped: no GPU here (%s); the kernel checks need one\n", why.c_str());
    return 77;
  }
  cudaDeviceProp prop{};
  KUNSIM_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("kernel checks on %s (sm_%d%d), seed %llu\n", prop.name, prop.major, prop.minor,
              static_cast<unsigned long long>(seed));
#endif
  rng.seed(seed);
  // The same long decode contexts on the GPU and in the emulator (whose fibers switch in user
  // space: the whole check takes seconds there).
  const int long_ctx = 4098;

  run_check("rms_norm", [] { check_rms_norm(false); });
  run_check("rms_norm residual", [] { check_rms_norm(true); });
  run_check("silu_and_mul", [] { check_silu_and_mul(); });
#ifndef KUNSIM_EMU
  run_check("gemm", [] {
    Gemm gemm;
    check_gemm(gemm, 1, 512, 256);
    check_gemm(gemm, 37, 384, 512);
    check_gemm(gemm, 130, 1024, 136);
  });
#endif
  // Prefill: a chunk shorter than a tile, chunks over tile edges, chunks after cached context,
  // block sizes 16 and 32; GQA groups 1 (prefill and decode), 4, 5 and 8.
  run_check("prefill gqa4", [] { check_mixed("prefill gqa4 bs16", {{0, 1}, {0, 70}, {37, 130}, {200, 64}}, {}, 8, 2, 16, 0); });
  run_check("prefill mha", [] { check_mixed("prefill gqa1 bs32", {{5, 129}, {0, 17}}, {}, 2, 2, 32, 0); });
  run_check("decode gqa8", [&] {
    check_mixed("decode gqa8 skewed", {}, {{0, 1}, {16, 1}, {299, 1}, {long_ctx / 4, 1}, {long_ctx, 1}}, 16, 2, 16, 1);
  });
  run_check("decode gqa8 split", [&] {
    check_mixed("decode gqa8 skewed", {}, {{0, 1}, {16, 1}, {299, 1}, {long_ctx / 4, 1}, {long_ctx, 1}}, 16, 2, 16, 7);
  });
  run_check("decode mha", [&] { check_mixed("decode gqa1 (ungrouped)", {}, {{0, 1}, {100, 1}, {long_ctx, 1}}, 2, 2, 16, 0); });
  run_check("decode gqa5", [] { check_mixed("decode gqa5", {}, {{40, 1}, {700, 1}, {2000, 1}}, 10, 2, 16, 0); });
  run_check("decode gqa7", [] { check_mixed("decode gqa7", {}, {{33, 1}, {500, 1}}, 14, 2, 16, 0); });
  run_check("mixed gqa2", [] { check_mixed("mixed gqa2 bs32", {{0, 65}}, {{128, 1}, {7, 1}}, 4, 2, 32, 0); });
  run_check("mixed", [] {
    check_mixed("mixed gqa4", {{100, 200}, {0, 33}}, {{50, 1}, {1500, 1}, {3, 1}}, 8, 2, 16, 4);
  });
#ifndef KUNSIM_EMU
  run_check("transfers", [] { check_transfers(); });
#endif

  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
