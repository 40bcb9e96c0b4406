#include "sim/cost/roofline_cost_model.hpp"

#include <algorithm>
#include <cstdio>

namespace kunsim {

CostSpec cost_spec_from_json(const Json* j, const std::string& path) {
  CostSpec spec;
  if (!j) return spec;
  JsonFields f(*j, path);
  spec.model = f.choice("model", "auto", {"auto", "roofline", "profile"});
  spec.profile = f.string("profile", "");
  if (spec.model == "profile" && spec.profile.empty())
    throw InputError(f.path_of("profile") + ": a profile folder is needed with cost.model=profile");
  RooflineParams& p = spec.roofline;
  p.gemm_efficiency = f.number("gemm_efficiency", p.gemm_efficiency, 0.01, 1.0);
  p.attention_efficiency = f.number("attention_efficiency", p.attention_efficiency, 0.01, 1.0);
  p.memory_efficiency = f.number("memory_efficiency", p.memory_efficiency, 0.01, 1.0);
  p.kernel_overhead_us = f.number("kernel_overhead_us", p.kernel_overhead_us, 0, 1e4);
  p.cpu_overhead_us = f.number("cpu_overhead_us", p.cpu_overhead_us, 0, 1e6);
  p.cpu_per_seq_us = f.number("cpu_per_seq_us", p.cpu_per_seq_us, 0, 1e4);
  p.allreduce_latency_us = f.number("allreduce_latency_us", p.allreduce_latency_us, 0, 1e4);
  f.finish();
  return spec;
}

RooflineCostModel::RooflineCostModel(const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink, int tp,
                                     RooflineParams params)
    : m_(model), gpu_(gpu), nvlink_(nvlink), tp_(tp), p_(params) {}

double RooflineCostModel::memory_bound(double bytes) const {
  return bytes / (gpu_.hbm_bytes_per_s * p_.memory_efficiency);
}

double RooflineCostModel::gemm(double m, double k, double n) const {
  if (m <= 0) return 0;
  const double flops = 2.0 * m * k * n;
  const double bytes = (k * n + m * k + m * n) * m_.dtype_bytes;
  return std::max(flops / (gpu_.bf16_flops * p_.gemm_efficiency), memory_bound(bytes)) +
         p_.kernel_overhead_us * 1e-6;
}

RooflineCostModel::TokenOps RooflineCostModel::compute_token_ops(double t) const {
  TokenOps o;
  const double h = m_.hidden, tp = tp_, d = m_.dtype_bytes;
  const double q = static_cast<double>(m_.q_width()) / tp;
  const double kv = static_cast<double>(m_.kv_heads_per_gpu(tp_)) * m_.head_dim;
  const double launch = p_.kernel_overhead_us * 1e-6;
  o.qkv = gemm(t, h, q + 2 * kv);
  o.o_proj = gemm(t, q, h);
  o.mlp = gemm(t, h, 2.0 * m_.ffn / tp) + gemm(t, m_.ffn / tp, h) + memory_bound(3.0 * t * m_.ffn / tp * d) +
          2 * memory_bound(2.0 * t * h * d) + 3 * launch;  // SiLU-and-mul, 2 RMSNorms
  // Two all-reduces per layer (after attention and after the MLP), ring algorithm over NVLink.
  if (tp_ > 1) {
    const double per = 2.0 * (tp - 1) / tp * (t * h * d) / nvlink_.bytes_per_s + p_.allreduce_latency_us * 1e-6;
    o.allreduce = 2 * per;
  }
  return o;
}

const RooflineCostModel::TokenOps& RooflineCostModel::token_ops(std::int64_t tokens) const {
  constexpr std::int64_t kTableMax = 1 << 16;
  if (tokens >= kTableMax) {
    static thread_local TokenOps scratch;
    scratch = compute_token_ops(static_cast<double>(tokens));
    return scratch;
  }
  if (static_cast<std::int64_t>(token_ops_.size()) <= tokens) token_ops_.resize(tokens + 1);
  TokenOps& o = token_ops_[tokens];
  if (o.qkv < 0) o = compute_token_ops(static_cast<double>(tokens));
  return o;
}

IterationCost RooflineCostModel::iteration(const BatchShape& s) const {
  IterationCost c;
  const std::int64_t tokens = s.tokens();
  if (tokens <= 0) return c;
  const double h = m_.hidden, tp = tp_, d = m_.dtype_bytes;
  const double q = static_cast<double>(m_.q_width()) / tp;
  const double kv = static_cast<double>(m_.kv_heads_per_gpu(tp_)) * m_.head_dim;
  const double heads = static_cast<double>(m_.heads) / tp;
  const double layers = s.layers;
  const double launch = p_.kernel_overhead_us * 1e-6;
  const TokenOps& ops = token_ops(tokens);
  c.qkv = layers * ops.qkv;
  c.o_proj = layers * ops.o_proj;
  c.mlp = layers * ops.mlp;
  c.allreduce = layers * ops.allreduce;

  // Prefill attention: causal, each chunk attends to its context plus half of itself.
  double pf_flops = 0, pf_bytes = 0;
  for (const auto& ch : s.prefills) {
    const double n = ch.tokens, ctx = ch.context;
    pf_flops += 4.0 * heads * m_.head_dim * n * (ctx + (n + 1) / 2.0);
    pf_bytes += (ctx + n) * 2 * kv * d + 2 * n * q * d;
  }
  if (!s.prefills.empty())
    c.attn_prefill = layers * (std::max(pf_flops / (gpu_.bf16_flops * p_.attention_efficiency), memory_bound(pf_bytes)) + launch);

  // Decode attention reads each request's whole KV once: bytes are linear in every context.
  if (s.num_decodes > 0) {
    const double ctx = static_cast<double>(s.decode_context_sum);
    const double bytes = ctx * 2 * kv * d + 2.0 * s.num_decodes * q * d;
    const double flops = 4.0 * heads * m_.head_dim * ctx;
    c.attn_decode = layers * (std::max(flops / (gpu_.bf16_flops * p_.attention_efficiency), memory_bound(bytes)) + launch);
  }

  if (s.sampled > 0) c.lm_head = gemm(s.sampled, h, static_cast<double>(m_.vocab) / tp);
  c.cpu = (p_.cpu_overhead_us + p_.cpu_per_seq_us * (s.num_decodes + static_cast<double>(s.prefills.size()))) * 1e-6;
  return c;
}

std::int64_t RooflineCostModel::activation_bytes(std::int64_t tokens) const {
  return tokens * m_.hidden * m_.dtype_bytes;
}

std::string RooflineCostModel::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "roofline (%s: %.0f TFLOP/s bf16 x %.2f, %.2f TB/s HBM x %.2f; no measured profile)",
                gpu_.name.c_str(), gpu_.bf16_flops / 1e12, p_.gemm_efficiency, gpu_.hbm_bytes_per_s / 1e12,
                p_.memory_efficiency);
  return buf;
}

}  // namespace kunsim
