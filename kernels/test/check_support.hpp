// What the kernel checks share: bf16 host buffers, uploads and downloads, NaN poisoning, the
// relative error against a float64 reference, and the pass/fail tally that main prints.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"

namespace kunsim::gpu::check {

using Host = std::vector<std::uint16_t>;  // bf16 bits

inline constexpr double kBf16Tolerance = 1e-2;
inline constexpr std::uint16_t kPoison = 0x7fc1;  // a bf16 NaN

inline std::mt19937_64 rng;  // seeded once by main (--seed)

inline Host random_bf16(std::size_t n, double scale = 1.0) {
  std::normal_distribution<float> d(0.f, static_cast<float>(scale));
  Host h(n);
  for (auto& x : h) x = float_to_bf16_bits(d(rng));
  return h;
}

inline double f(std::uint16_t b) { return bf16_bits_to_float(b); }

template <class T>
DeviceBuffer<T> upload(const std::vector<T>& h) {
  DeviceBuffer<T> d(h.size());
  KUNSIM_CUDA(cudaMemcpy(d.get(), h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}
inline DeviceBuffer<bf16> upload_bf16(const Host& h) {
  DeviceBuffer<bf16> d(h.size());
  KUNSIM_CUDA(cudaMemcpy(d.get(), h.data(), h.size() * 2, cudaMemcpyHostToDevice));
  return d;
}
inline Host download(const DeviceBuffer<bf16>& d) {
  Host h(d.size());
  KUNSIM_CUDA(cudaDeviceSynchronize());
  KUNSIM_CUDA(cudaMemcpy(h.data(), d.get(), h.size() * 2, cudaMemcpyDeviceToHost));
  return h;
}
inline void poison(DeviceBuffer<bf16>& d) {
  const Host p(d.size(), kPoison);
  KUNSIM_CUDA(cudaMemcpy(d.get(), p.data(), p.size() * 2, cudaMemcpyHostToDevice));
}

// Relative Frobenius error over the listed indices (all when empty); NaN or an unwritten
// element makes it infinite.
inline double rel_error(const Host& out, const std::vector<double>& ref, const std::vector<std::size_t>& idx = {}) {
  double num = 0, den = 0;
  auto one = [&](std::size_t i) {
    const double o = f(out[i]);
    if (!std::isfinite(o)) num = INFINITY;
    num += (o - ref[i]) * (o - ref[i]);
    den += ref[i] * ref[i];
  };
  if (idx.empty())
    for (std::size_t i = 0; i < out.size(); ++i) one(i);
  else
    for (std::size_t i : idx) one(i);
  return std::isfinite(num) ? std::sqrt(num / std::max(den, 1e-30)) : INFINITY;
}

inline int passed = 0, failed = 0;
inline void report(const std::string& name, double err, double tol) {
  const bool ok = err <= tol;  // NaN and inf fail
  std::printf("%s %-44s rel_error %.3e (tolerance %.0e)\n", ok ? "PASS" : "FAIL", name.c_str(), err, tol);
  (ok ? passed : failed)++;
}
inline void run_check(const std::string& name, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::printf("FAIL %-44s %s\n", name.c_str(), e.what());
    ++failed;
  }
}

struct SeqSpec {
  int context;  // tokens cached before this step
  int chunk;    // new tokens this step (1 for a decode)
};

// A mixed batch run as vLLM's chunked prefill runs it (attention_check.cpp).
void check_mixed(const std::string& name, const std::vector<SeqSpec>& prefills, const std::vector<SeqSpec>& decodes,
                 int q_heads, int kv_heads, int block_size, int force_splits);

}  // namespace kunsim::gpu::check
