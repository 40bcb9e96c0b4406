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
#include "kernels/elementwise.hpp"
#ifndef KUNSIM_EMU
#include "kernels/gemm.hpp"
#include "kernels/transfers.hpp"
#endif

namespace {

using namespace kunsim::gpu;
using Host = std::vector<std::uint16_t>;  // bf16 bits

constexpr double kBf16Tolerance = 1e-2;
constexpr std::uint16_t kPoison = 0x7fc1;  // a bf16 NaN

std::mt19937_64 rng;

Host random_bf16(std::size_t n, double scale = 1.0) {
  std::normal_distribution<float> d(0.f, static_cast<float>(scale));
  Host h(n);
  for (auto& x : h) x = float_to_bf16_bits(d(rng));
  return h;
}

double f(std::uint16_t b) { return bf16_bits_to_float(b); }

template <class T>
DeviceBuffer<T> upload(const std::vector<T>& h) {
  DeviceBuffer<T> d(h.size());
  KUNSIM_CUDA(cudaMemcpy(d.get(), h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}
DeviceBuffer<bf16> upload_bf16(const Host& h) {
  DeviceBuffer<bf16> d(h.size());
  KUNSIM_CUDA(cudaMemcpy(d.get(), h.data(), h.size() * 2, cudaMemcpyHostToDevice));
  return d;
}
Host download(const DeviceBuffer<bf16>& d) {
  Host h(d.size());
  KUNSIM_CUDA(cudaDeviceSynchronize());
  KUNSIM_CUDA(cudaMemcpy(h.data(), d.get(), h.size() * 2, cudaMemcpyDeviceToHost));
  return h;
}
void poison(DeviceBuffer<bf16>& d) {
  const Host p(d.size(), kPoison);
  KUNSIM_CUDA(cudaMemcpy(d.get(), p.data(), p.size() * 2, cudaMemcpyHostToDevice));
}

// Relative Frobenius error over the listed indices (all when empty); NaN or an unwritten
// element makes it infinite.
double rel_error(const Host& out, const std::vector<double>& ref, const std::vector<std::size_t>& idx = {}) {
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

int passed = 0, failed = 0;
void report(const std::string& name, double err, double tol) {
  const bool ok = err <= tol;  // NaN and inf fail
  std::printf("%s %-44s rel_error %.3e (tolerance %.0e)\n", ok ? "PASS" : "FAIL", name.c_str(), err, tol);
  (ok ? passed : failed)++;
}
void run_check(const std::string& name, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    std::printf("FAIL %-44s %s\n", name.c_str(), e.what());
    ++failed;
  }
}

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

// ---- attention ----------------------------------------------------------------------------

// A paged cache with its contents kept on the host too, and blocks handed out in a shuffled
// order so that block tables are not the identity.
struct Cache {
  int block_size, kv_heads, num_blocks;
  Host k, v;
  std::vector<int> free_blocks;
  Cache(int bs, int kvh, int blocks) : block_size(bs), kv_heads(kvh), num_blocks(blocks) {
    k = random_bf16(static_cast<std::size_t>(blocks) * bs * kvh * kHeadDim);
    v = random_bf16(k.size());
    free_blocks.resize(blocks);
    std::iota(free_blocks.begin(), free_blocks.end(), 0);
    std::shuffle(free_blocks.begin(), free_blocks.end(), rng);
  }
  std::vector<int> table(int tokens, int max_blocks) {
    std::vector<int> t(max_blocks, 0);
    for (int b = 0; b < (tokens + block_size - 1) / block_size; ++b) {
      t[b] = free_blocks.back();
      free_blocks.pop_back();
    }
    return t;
  }
  std::size_t at(const std::vector<int>& table, int key, int h) const {
    const std::size_t slot = static_cast<std::size_t>(table[key / block_size]) * block_size + key % block_size;
    return (slot * kv_heads + h) * kHeadDim;
  }
};

// out[h][d] for one query row at position `pos` (keys 0..pos) of a sequence in `cache`.
void ref_attention_row(const Cache& c, const std::vector<int>& table, const double* q, int q_heads, int pos,
                       double scale, std::vector<double>& out) {
  const int group = q_heads / c.kv_heads;
  out.assign(static_cast<std::size_t>(q_heads) * kHeadDim, 0.0);
  std::vector<double> s(pos + 1);
  for (int h = 0; h < q_heads; ++h) {
    const int kvh = h / group;
    double mx = -INFINITY;
    for (int key = 0; key <= pos; ++key) {
      const std::size_t base = c.at(table, key, kvh);
      double dot = 0;
      for (int d = 0; d < kHeadDim; ++d) dot += q[h * kHeadDim + d] * f(c.k[base + d]);
      s[key] = dot * scale;
      mx = std::max(mx, s[key]);
    }
    double sum = 0;
    for (int key = 0; key <= pos; ++key) sum += (s[key] = std::exp(s[key] - mx));
    for (int key = 0; key <= pos; ++key) {
      const std::size_t base = c.at(table, key, kvh);
      for (int d = 0; d < kHeadDim; ++d) out[h * kHeadDim + d] += s[key] / sum * f(c.v[base + d]);
    }
  }
}

struct SeqSpec {
  int context;  // tokens cached before this step
  int chunk;    // new tokens this step (1 for a decode)
};

// A mixed batch run as vLLM's chunked prefill runs it: write_kv_rope over every new token, one
// prefill launch over the chunks, one decode launch over the single-token sequences.
void check_mixed(const std::string& name, const std::vector<SeqSpec>& prefills, const std::vector<SeqSpec>& decodes,
                 int q_heads, int kv_heads, int block_size, int force_splits) {
  std::vector<SeqSpec> seqs = prefills;
  seqs.insert(seqs.end(), decodes.begin(), decodes.end());
  int max_len = 0, total_blocks = 0, tokens = 0;
  for (const auto& s : seqs) {
    max_len = std::max(max_len, s.context + s.chunk);
    total_blocks += (s.context + s.chunk + block_size - 1) / block_size;
    tokens += s.chunk;
  }
  const int max_blocks = (max_len + block_size - 1) / block_size;
  Cache cache(block_size, kv_heads, total_blocks + 3);
  std::vector<std::vector<int>> tables;
  for (const auto& s : seqs) tables.push_back(cache.table(s.context + s.chunk, max_blocks));

  const int width = (q_heads + 2 * kv_heads) * kHeadDim;
  const Host qkv = random_bf16(static_cast<std::size_t>(tokens) * width);
  std::vector<int> positions, slots;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    for (int j = 0; j < seqs[i].chunk; ++j) {
      const int pos = seqs[i].context + j;
      positions.push_back(pos);
      slots.push_back(tables[i][pos / block_size] * block_size + pos % block_size);
    }
  const double theta = 500000.0;
  const std::vector<float> inv_freq = rope_inv_freq(theta);

  // Reference: rotate in float64 (rounded to bf16 as the kernel stores them), fill the cache.
  Host rotated = qkv;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < q_heads + kv_heads; ++h)
      for (int i = 0; i < kHeadDim / 2; ++i) {
        const std::size_t base = static_cast<std::size_t>(t) * width + h * kHeadDim;
        const double ang = static_cast<double>(positions[t]) * static_cast<double>(inv_freq[i]);
        const double a = f(qkv[base + i]), b = f(qkv[base + i + 64]);
        rotated[base + i] = float_to_bf16_bits(static_cast<float>(a * std::cos(ang) - b * std::sin(ang)));
        rotated[base + i + 64] = float_to_bf16_bits(static_cast<float>(b * std::cos(ang) + a * std::sin(ang)));
      }
  Cache ref_cache = cache;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < kv_heads; ++h)
      for (int d = 0; d < kHeadDim; ++d) {
        const std::size_t dst = (static_cast<std::size_t>(slots[t]) * kv_heads + h) * kHeadDim + d;
        ref_cache.k[dst] = rotated[static_cast<std::size_t>(t) * width + (q_heads + h) * kHeadDim + d];
        ref_cache.v[dst] = qkv[static_cast<std::size_t>(t) * width + (q_heads + kv_heads + h) * kHeadDim + d];
      }

  // Device.
  auto dqkv = upload_bf16(qkv), dk = upload_bf16(cache.k), dv = upload_bf16(cache.v);
  auto dpos = upload(positions), dslots = upload(slots);
  auto dfreq = upload(inv_freq);
  const PagedKv kv{dk.get(), dv.get(), block_size, kv_heads};
  const AttentionHeads heads{q_heads, kv_heads, static_cast<float>(1.0 / std::sqrt(static_cast<double>(kHeadDim)))};
  DeviceBuffer<bf16> dout(static_cast<std::size_t>(tokens) * q_heads * kHeadDim);
  poison(dout);
  write_kv_rope(dqkv.get(), tokens, q_heads, dpos.get(), dslots.get(), dfreq.get(), kv, 0);

  const int np = static_cast<int>(prefills.size()), nd = static_cast<int>(decodes.size());
  std::vector<int> cu_q{0}, kv_lens, flat_tables, chunk_lens;
  for (int i = 0; i < np; ++i) {
    cu_q.push_back(cu_q.back() + prefills[i].chunk);
    kv_lens.push_back(prefills[i].context + prefills[i].chunk);
    chunk_lens.push_back(prefills[i].chunk);
    flat_tables.insert(flat_tables.end(), tables[i].begin(), tables[i].end());
  }
  const int prefill_tokens = cu_q.back();
  const std::vector<int2> tiles = prefill_tiles(chunk_lens);
  auto dcu = upload(cu_q), dlens = upload(kv_lens), dtab = upload(flat_tables);
  auto dtiles = upload(tiles);
  PrefillBatch pb;
  pb.q = dqkv.get();
  pb.q_stride = width;
  pb.out = dout.get();
  pb.out_stride = q_heads * kHeadDim;
  pb.cu_q = dcu.get();
  pb.kv_lens = dlens.get();
  pb.block_tables = dtab.get();
  pb.max_blocks = max_blocks;
  pb.tiles = dtiles.get();
  pb.num_tiles = static_cast<int>(tiles.size());
  if (np > 0) prefill_attention(pb, kv, heads, 0);

  std::vector<int> dec_lens, dec_tables;
  int dec_max = 1;
  for (int i = 0; i < nd; ++i) {
    dec_lens.push_back(decodes[i].context + 1);
    dec_max = std::max(dec_max, dec_lens.back());
    dec_tables.insert(dec_tables.end(), tables[np + i].begin(), tables[np + i].end());
  }
  auto ddlens = upload(dec_lens), ddtab = upload(dec_tables);
  DecodeBatch db;
  db.q = dqkv.get() + static_cast<std::size_t>(prefill_tokens) * width;
  db.q_stride = width;
  db.out = dout.get() + static_cast<std::size_t>(prefill_tokens) * q_heads * kHeadDim;
  db.out_stride = q_heads * kHeadDim;
  db.kv_lens = ddlens.get();
  db.block_tables = ddtab.get();
  db.max_blocks = max_blocks;
  db.num_seqs = nd;
  if (force_splits > 0) {
    db.split.keys_per_split = std::max(32, ((dec_max + force_splits - 1) / force_splits + 31) / 32 * 32);
    db.split.splits = (dec_max + db.split.keys_per_split - 1) / db.split.keys_per_split;
  } else {
    db.split = choose_decode_split(nd, kv_heads, dec_max, 132);
  }
  DeviceBuffer<float> ws(std::max<std::size_t>(1, decode_workspace_floats(nd, q_heads, db.split.splits)));
  db.workspace = ws.get();
  if (nd > 0) decode_attention(db, kv, heads, 0);
  const Host out = download(dout);

  // The cache the kernels wrote must match the reference cache at the new tokens' slots.
  const Host got_k = download(dk), got_v = download(dv);
  std::vector<double> ref_kv, idx_dummy;
  Host got_kv;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < kv_heads; ++h)
      for (int d = 0; d < kHeadDim; ++d) {
        const std::size_t i = (static_cast<std::size_t>(slots[t]) * kv_heads + h) * kHeadDim + d;
        ref_kv.push_back(f(ref_cache.k[i]));
        got_kv.push_back(got_k[i]);
        ref_kv.push_back(f(ref_cache.v[i]));
        got_kv.push_back(got_v[i]);
      }
  report(name + ": rope + cache write", rel_error(got_kv, ref_kv), kBf16Tolerance);

  std::vector<double> ref(out.size()), row, q(static_cast<std::size_t>(q_heads) * kHeadDim);
  int t = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    for (int j = 0; j < seqs[i].chunk; ++j, ++t) {
      for (std::size_t e = 0; e < q.size(); ++e) q[e] = f(rotated[static_cast<std::size_t>(t) * width + e]);
      ref_attention_row(ref_cache, tables[i], q.data(), q_heads, seqs[i].context + j, heads.scale, row);
      std::copy(row.begin(), row.end(), ref.begin() + static_cast<std::ptrdiff_t>(t) * q_heads * kHeadDim);
    }
  const std::size_t split_at = static_cast<std::size_t>(prefill_tokens) * q_heads * kHeadDim;
  std::vector<std::size_t> pre(split_at), dec(out.size() - split_at);
  std::iota(pre.begin(), pre.end(), 0);
  std::iota(dec.begin(), dec.end(), split_at);
  if (np > 0) report(name + ": prefill attention", rel_error(out, ref, pre), kBf16Tolerance);
  if (nd > 0)
    report(name + ": decode attention (" + std::to_string(db.split.splits) + " slices)", rel_error(out, ref, dec),
           kBf16Tolerance);
}

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
  const bool emulated = true;
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
  const bool emulated = false;
#endif
  rng.seed(seed);
  // The emulator runs every lane as a host thread: the long decode contexts shrink there.
  const int long_ctx = emulated ? 700 : 4098;

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
  // block sizes 16 and 32; GQA groups 1, 4, 5 and 8.
  run_check("prefill gqa4", [] { check_mixed("prefill gqa4 bs16", {{0, 1}, {0, 70}, {37, 130}, {200, 64}}, {}, 8, 2, 16, 0); });
  run_check("prefill mha", [] { check_mixed("prefill gqa1 bs32", {{5, 129}, {0, 17}}, {}, 2, 2, 32, 0); });
  run_check("decode gqa8", [&] {
    check_mixed("decode gqa8 skewed", {}, {{0, 1}, {16, 1}, {299, 1}, {long_ctx / 4, 1}, {long_ctx, 1}}, 16, 2, 16, 1);
  });
  run_check("decode gqa8 split", [&] {
    check_mixed("decode gqa8 skewed", {}, {{0, 1}, {16, 1}, {299, 1}, {long_ctx / 4, 1}, {long_ctx, 1}}, 16, 2, 16, 7);
  });
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
