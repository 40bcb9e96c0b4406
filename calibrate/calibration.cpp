#include "calibrate/calibration.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>

#include "calibrate/model_runner.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/gemm.hpp"
#include "kernels/random_fill.hpp"
#include "kernels/transfers.hpp"

namespace kunsim::calibrate {
namespace {

using clock_type = std::chrono::steady_clock;

double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

// Useful FLOPs of causal attention for one chunk: QK^T and PV over the keys each row sees.
double prefill_flops(const ModelShard& m, int chunk, int context) {
  const double pairs = static_cast<double>(chunk) * context + static_cast<double>(chunk) * (chunk + 1) / 2.0;
  return 4.0 * ModelShard::kHeadDim * m.q_heads * pairs;
}

// A measured batch as an iterations.csv / attention_mixed.csv row (at most one prefill chunk).
IterationRow batch_row(const ModelShard& m, const Composition& c, const Timing& t) {
  IterationRow r;
  r.model = m.model;
  r.tp = m.tp;
  if (!c.prefills.empty()) {
    r.prefill_context = c.prefills[0].context;
    r.prefill_tokens = c.prefills[0].tokens;
  }
  r.decodes = static_cast<long long>(c.decode_lens.size());
  r.decode_context_sum = c.decode_keys();
  r.seconds = t.seconds;
  return r;
}

}  // namespace

Calibration::Calibration(ProfileWriter& out, CalibrationOptions o) : out_(out), o_(o) {
  KUNSIM_CUDA(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking));
}

Calibration::~Calibration() { cudaStreamDestroy(s_); }

nlohmann::json Calibration::ceilings() {
  OpTimer timer(s_, o_.timer);
  const std::size_t bytes = o_.quick ? (256u << 20) : (1u << 30);
  gpu::DeviceBuffer<gpu::bf16> a(bytes / 2), b(bytes / 2);
  gpu::fill_random(a.get(), a.size(), 1, 1.f, s_);
  const Timing copy = timer.time([&](int) {
    KUNSIM_CUDA(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s_));
  });
  const int n = o_.quick ? 4096 : 8192;
  gpu::DeviceBuffer<gpu::bf16> x(static_cast<std::size_t>(n) * n), w(x.size()), y(x.size());
  gpu::fill_random(x.get(), x.size(), 2, 1.f, s_);
  gpu::fill_random(w.get(), w.size(), 3, 0.02f, s_);
  gpu::Gemm gemm;
  const Timing mm = timer.time([&](int) { gemm.linear(x.get(), w.get(), y.get(), n, n, n, s_); });
  nlohmann::json c = {{"d2d_bytes_per_s", 2.0 * static_cast<double>(bytes) / copy.seconds},
                      {"gemm_bf16_flop_per_s", 2.0 * n * static_cast<double>(n) * n / mm.seconds},
                      {"gemm_size", n}};
  std::fprintf(o_.log, "ceilings: device copy %.0f GB/s (read + written), bf16 GEMM %d^3 %.0f TFLOP/s\n",
               c["d2d_bytes_per_s"].get<double>() / 1e9, n, c["gemm_bf16_flop_per_s"].get<double>() / 1e12);
  return c;
}

nlohmann::json Calibration::model(const ModelShard& m, const nlohmann::json& ceilings) {
  const auto t_start = clock_type::now();
  // Activations are sized for the largest batch of the grid; decode shapes are then cut to the pool.
  const Grid sizing = o_.grid ? *o_.grid : Grid::make(o_.quick, std::int64_t{1} << 62);
  ModelRunner runner(m, sizing.max_tokens(), s_);
  const std::int64_t pool_keys = runner.pool_blocks() * ModelRunner::kBlockSize;
  const Grid grid = o_.grid ? *o_.grid : Grid::make(o_.quick, pool_keys);
  OpTimer timer(s_, o_.timer);
  std::fprintf(o_.log, "%s tp%d: %d distinct layers' weights rotated (the model has %d), KV pool %lld tokens\n",
               m.model.c_str(), m.tp, runner.distinct_layers(), m.layers, static_cast<long long>(pool_keys));
  int points = 0;
  auto record = [&](const char* op, double p1, double p2, const Timing& t) {
    out_.add(OpRow{op, m.model, m.tp, p1, p2, t.seconds, t.repeats, t.min_s, t.p90_s});
    ++points;
  };
  auto family = [&](const char* name, const std::function<void()>& body) {
    const auto t0 = clock_type::now();
    const int before = points;
    body();
    std::fprintf(o_.log, "  %-13s %4d points  %6.1f s\n", name, points - before, since(t0));
    std::fflush(o_.log);
    if (o_.checkpoint) o_.checkpoint(name);
  };

  const std::vector<std::pair<const char*, void (ModelRunner::*)(int, int)>> per_token = {
      {"gemm_qkv", &ModelRunner::gemm_qkv},
      {"gemm_o", &ModelRunner::gemm_o},
      {"gemm_gate_up", &ModelRunner::gemm_gate_up},
      {"gemm_down", &ModelRunner::gemm_down},
      {"rmsnorm", &ModelRunner::rmsnorm}};
  for (const auto& [op, fn] : per_token)
    family(op, [&, op = op, fn = fn] {
      for (int t : grid.tokens) record(op, t, 0, timer.time([&](int i) { (runner.*fn)(t, i); }));
    });
  family("silu_mul", [&] {
    for (int t : grid.tokens) record("silu_mul", t, 0, timer.time([&](int) { runner.silu_mul(t); }));
  });
  family("gemm_lm_head", [&] {
    for (int r : grid.lm_rows) record("gemm_lm_head", r, 0, timer.time([&](int) { runner.gemm_lm_head(r); }));
  });
  family("rope_cache", [&] {
    for (int t : grid.tokens) {
      auto b = runner.prepare({{{0, t}}, {}}, 8);
      if (b) record("rope_cache", t, 0, timer.time([&](int i) { runner.rope_cache(*b, i); }));
    }
  });

  double best_prefill = 0, best_decode = 0;
  family("attn_prefill", [&] {
    for (const auto& [chunk, ctx] : grid.prefill) {
      auto b = runner.prepare({{{ctx, chunk}}, {}}, 8);
      if (!b) continue;
      const Timing t = timer.time([&](int i) { runner.attention(*b, i); });
      record("attn_prefill", chunk, ctx, t);
      best_prefill = std::max(best_prefill, prefill_flops(m, chunk, ctx) / t.seconds);
    }
  });
  family("attn_decode", [&] {
    for (const auto& lens : grid.decode) {
      Composition c;
      c.decode_lens = lens;
      auto b = runner.prepare(c, 8);
      if (!b) continue;
      const Timing t = timer.time([&](int i) { runner.attention(*b, i); });
      record("attn_decode", static_cast<double>(lens.size()), static_cast<double>(c.decode_keys()), t);
      const double bytes = static_cast<double>(c.decode_keys()) * static_cast<double>(m.kv_bytes_per_token());
      best_decode = std::max(best_decode, bytes / t.seconds);
    }
  });

  family("attn_mixed", [&] {
    for (const auto& c : grid.mixed) {
      auto b = runner.prepare(c, 8);
      if (!b) continue;
      out_.add_mixed_attention(batch_row(m, c, timer.time([&](int i) { runner.attention(*b, i); })));
      ++points;
    }
  });

  int iteration_points = 0;
  family("iteration", [&] {
    for (const auto& c : grid.iterations) {
      auto b = runner.prepare(c, m.layers);
      if (!b) continue;
      out_.add(batch_row(m, c, timer.time([&](int) { runner.iteration(*b); })));
      ++points;
      ++iteration_points;
    }
  });

  const double seconds = since(t_start);
  nlohmann::json run = {{"model", m.model},
                        {"tp", m.tp},
                        {"model_spec", m.spec},
                        {"points", points},
                        {"iteration_points", iteration_points},
                        {"calibration_s", seconds},
                        {"weight_layers_distinct", runner.distinct_layers()},
                        {"iteration_includes_allreduce", false},
                        {"quick", o_.quick},
                        {"decode_attention_bytes_per_s", best_decode},
                        {"prefill_attention_flop_per_s", best_prefill}};
  if (ceilings.contains("d2d_bytes_per_s")) {
    run["decode_vs_device_copy"] = best_decode / ceilings["d2d_bytes_per_s"].get<double>();
    run["prefill_vs_gemm"] = best_prefill / ceilings["gemm_bf16_flop_per_s"].get<double>();
  }
  std::fprintf(o_.log, "%s tp%d: %d points in %.0f s; decode attention %.0f GB/s, prefill attention %.0f TFLOP/s",
               m.model.c_str(), m.tp, points, seconds, best_decode / 1e9, best_prefill / 1e12);
  if (run.contains("decode_vs_device_copy"))
    std::fprintf(o_.log, " (%.0f%% of the device copy, %.0f%% of the GEMM)", 100 * run["decode_vs_device_copy"].get<double>(),
                 100 * run["prefill_vs_gemm"].get<double>());
  std::fprintf(o_.log, "\n");
  return run;
}

nlohmann::json Calibration::transfers() {
  const auto t0 = clock_type::now();
  const Grid grid = o_.grid ? *o_.grid : Grid::make(o_.quick, 0);
  if (grid.transfer_bytes.empty()) return {{"model", "transfers"}, {"tp", 0}, {"points", 0}};
  const std::int64_t max_bytes = *std::max_element(grid.transfer_bytes.begin(), grid.transfer_bytes.end());
  gpu::Transfers tr(static_cast<std::size_t>(max_bytes));
  gpu::fill_random(tr.device(0), static_cast<std::size_t>(max_bytes) / 2, 4, 1.f, tr.stream(0));
  OpTimer timer(tr.stream(0), o_.timer);
  int points = 0;
  auto add = [&](const char* op, int tp, std::int64_t bytes, const Timing& t) {
    out_.add(OpRow{op, "", tp, static_cast<double>(bytes), 0, t.seconds, t.repeats, t.min_s, t.p90_s});
    ++points;
  };
  const std::vector<std::pair<const char*, gpu::Transfers::Copy>> copies = {
      {"memcpy_h2d", gpu::Transfers::Copy::H2D},
      {"memcpy_d2h", gpu::Transfers::Copy::D2H},
      {"memcpy_d2d", gpu::Transfers::Copy::D2D}};
  for (const auto& [op, kind] : copies)
    for (std::int64_t b : grid.transfer_bytes)
      add(op, 0, b, timer.time([&, kind = kind](int) { tr.copy(kind, static_cast<std::size_t>(b)); }));
  const auto sync = [&] { tr.synchronize(); };
  if (tr.gpus() >= 2) {
    for (std::int64_t b : grid.transfer_bytes)
      add("memcpy_p2p", 0, b, timer.time_host([&](int) { tr.copy(gpu::Transfers::Copy::P2P, static_cast<std::size_t>(b)); }, sync));
    if (tr.has_nccl()) {
      for (int ranks = 2; ranks <= tr.gpus(); ranks *= 2)
        for (std::int64_t b : grid.transfer_bytes)
          add("allreduce", ranks, b, timer.time_host([&](int) { tr.all_reduce(static_cast<std::size_t>(b), ranks); }, sync));
      for (std::int64_t b : grid.transfer_bytes)
        add("send", 0, b, timer.time_host([&](int) { tr.send_recv(static_cast<std::size_t>(b)); }, sync));
    }
  }
  std::fprintf(o_.log, "transfers: %d points on %d GPU(s)%s in %.1f s\n", points, tr.gpus(),
               tr.gpus() < 2 ? " (one GPU: no peer copy, all-reduce or send)"
                             : (tr.has_nccl() ? "" : " (built without NCCL: no all-reduce or send)"),
               since(t0));
  // What this session could not measure, said in meta.json rather than left to look like
  // nothing: a run on this profile prices these from an imported table (a multi-GPU nccl-tests
  // log, or the measured production tables) or the roofline, never from nothing.
  nlohmann::json not_measured = nlohmann::json::array();
  if (tr.gpus() < 2)
    not_measured.push_back("memcpy_p2p, allreduce and send: one GPU (a multi-GPU session, or nccl-tests logs beside "
                           "the profile, supply them)");
  else if (!tr.has_nccl())
    not_measured.push_back("allreduce and send: built without NCCL");
  return {{"model", "transfers"},      {"tp", 0},           {"gpus", tr.gpus()}, {"nccl", tr.has_nccl()},
          {"points", points},          {"not_measured", not_measured},
          {"calibration_s", since(t0)}};
}

}  // namespace kunsim::calibrate
