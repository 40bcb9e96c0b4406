#include "sim/cost/roofline_cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "sim/cost/cost_choice.hpp"

namespace kunsim {

double RooflineParams::overhead_s(const BatchShape& s) const {
  const double seqs = s.num_decodes + static_cast<double>(s.prefills.size());
  return ((graphed(s) ? graph_overhead_us : eager_overhead_us) + cpu_per_seq_us * seqs) * 1e-6;
}

RooflineCostModel::RooflineCostModel(const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink, int tp,
                                     RooflineParams params)
    : m_(model), gpu_(gpu), nvlink_(nvlink), tp_(tp), p_(params) {}

double RooflineCostModel::memory_bound(double bytes) const {
  return bytes / (gpu_.hbm_bytes_per_s * p_.memory_efficiency);
}

double RooflineCostModel::kv_read(double bytes) const {
  return bytes / (gpu_.hbm_bytes_per_s * p_.attention_memory_efficiency);
}

double RooflineCostModel::gemm(double m, double k, double n, Dtype w) const {
  if (m <= 0) return 0;
  const double flops = 2.0 * m * k * n;
  // Weights in their dtype, activations in and out in bf16 (written so that bf16 is exactly
  // (k n + m k + m n) x 2).
  const double weight_share = static_cast<double>(dtype_bytes(w)) / kActivationBytes;
  const double bytes = (k * n * weight_share + m * k + m * n) * kActivationBytes;
  const double peak = w == Dtype::bf16 ? gpu_.bf16_flops : gpu_.fp8_flops;
  return std::max(flops / (peak * p_.gemm_efficiency), memory_bound(bytes)) + p_.gemm_latency_us * 1e-6;
}

RooflineCostModel::AttentionProjections RooflineCostModel::attention_projections(double t) const {
  AttentionProjections a;
  for (const LinearShape& g : m_.attention_in_gemms(tp_)) a.in += gemm(t, g.k, g.n, m_.weight_dtype);
  const LinearShape out = m_.attention_out_gemm(tp_);
  a.out = gemm(t, out.k, out.n, m_.weight_dtype);
  return a;
}

double RooflineCostModel::moe_experts(double t) const {
  if (t <= 0 || !m_.moe.on()) return 0;
  const double E = m_.moe.experts, k = m_.moe.top_k, h = m_.hidden;
  // This GPU's experts and the width of each: every expert sliced by TP, or E / tp whole ones.
  const double local = m_.expert_parallel ? std::ceil(E / tp_) : E;
  const double ffn = m_.expert_parallel ? m_.moe.expert_ffn : static_cast<double>(m_.moe.expert_ffn) / tp_;
  const double routed = t * k * local / E;  // token copies this GPU computes
  const double touched = local * (1.0 - std::pow(1.0 - k / E, t));
  const Dtype d = m_.expert_dtype();
  const double wb = bytes_per_weight(d);
  const double flops = 2.0 * routed * 3.0 * h * ffn;
  const double bytes = touched * 3.0 * h * ffn * wb + routed * (2.0 * h + 3.0 * ffn) * kActivationBytes;
  // fp8 experts run on fp8 tensor cores; mxfp4 ones are widened to bf16 (vLLM's w4a16).
  const double peak = d == Dtype::fp8 || d == Dtype::fp8_block ? gpu_.fp8_flops : gpu_.bf16_flops;
  // Two grouped GEMMs (gate/up, down), each a launch.
  return std::max(flops / (peak * p_.gemm_efficiency), memory_bound(bytes)) + 2 * p_.gemm_latency_us * 1e-6;
}

double RooflineCostModel::prefill_attention(const std::vector<PrefillChunk>& chunks, double heads, double kv_heads,
                                            double head_dim) const {
  if (chunks.empty()) return 0;
  ChunkWork w;
  for (const auto& c : chunks) w.add(c.tokens, c.context, 1, heads, kv_heads, head_dim, dtype_bytes(m_.kv_cache_dtype));
  return chunk_attention(w, prefill_equivalent(chunks).len);
}

void RooflineCostModel::ChunkWork::add(double n, double ctx, double count, double heads, double kv_heads,
                                       double head_dim, double kv_bytes) {
  // Each chunk attends to its context plus, causally, half of itself; it reads its context's K
  // and V (in the cache's dtype) and writes its own Q, O (bf16).
  flops += count * 4.0 * heads * head_dim * n * (ctx + (n + 1) / 2.0);
  bytes += count * ((ctx + n) * 2 * kv_heads * head_dim * kv_bytes + 2 * n * heads * head_dim * kActivationBytes);
}

void RooflineCostModel::ChunkWork::add(double n, double ctx, double count, const AttentionDims& d) {
  flops += count * d.heads * d.flops_per_key * n * (ctx + (n + 1) / 2.0);
  bytes += count * ((ctx + n) * d.kv_bytes_per_key + n * d.q_bytes_per_query);
}

RooflineCostModel::AttentionDims RooflineCostModel::mla_dims(bool decode) const {
  const MlaSpec& a = m_.mla;
  AttentionDims d;
  d.heads = static_cast<double>(m_.heads) / tp_;
  // Decode (absorbed): scores over the latent and rope key, values summed in the latent. Prefill:
  // ordinary attention at the expanded widths. Both read the cached latent.
  const double qk = decode ? a.latent_width() : a.qk_head_dim(), v = decode ? a.kv_lora_rank : a.v_head_dim;
  d.flops_per_key = 2.0 * (qk + v);
  d.kv_bytes_per_key = static_cast<double>(a.latent_width()) * dtype_bytes(m_.kv_cache_dtype);
  d.q_bytes_per_query = d.heads * (qk + v) * kActivationBytes;
  return d;
}

RooflineCostModel::MlaSeconds RooflineCostModel::mla_attention(const BatchShape& s) const {
  MlaSeconds out;
  if (!s.prefills.empty()) {
    ChunkWork w;
    const AttentionDims d = mla_dims(false);
    for (const auto& c : s.prefills) w.add(c.tokens, c.context, 1, d);
    out.prefill = chunk_attention(w, prefill_equivalent(s.prefills).len);
  }
  if (s.num_decodes > 0) {
    const AttentionDims d = mla_dims(true);
    if (s.decode_queries > 1) {
      const PrefillEquivalent v = verification_equivalent(s);
      ChunkWork w;
      w.add(s.decode_queries, v.context - s.decode_queries, v.batch, d);
      out.decode = chunk_attention(w, v.len);
    } else {
      const double b = s.num_decodes, ctx = static_cast<double>(s.decode_context_sum) / s.num_decodes;
      const double bytes = b * ctx * d.kv_bytes_per_key + b * d.q_bytes_per_query;
      const double flops = d.heads * d.flops_per_key * b * ctx;
      out.decode = std::max(flops / (gpu_.bf16_flops * p_.attention_efficiency), kv_read(bytes)) +
                   p_.attention_latency_us * 1e-6;
    }
    if (!s.prefills.empty()) out.decode -= p_.attention_latency_us * 1e-6;  // one kernel's fixed cost, not two
  }
  return out;
}

double RooflineCostModel::chunk_attention(const ChunkWork& w, double len) const {
  // FlashAttention fills the GPU only once prompts span enough query tiles: efficiency ramps
  // with the batch's equivalent prompt length (fitted), which a fixed efficiency cannot express.
  const double eff = p_.attention_efficiency * len / (len + p_.attention_half_len);
  return std::max(w.flops / (gpu_.bf16_flops * eff), kv_read(w.bytes)) + p_.attention_latency_us * 1e-6;
}

double RooflineCostModel::verify_attention(const BatchShape& s, double heads, double kv_heads, double head_dim) const {
  // The batch's decodes as identical chunks of decode_queries tokens after their mean context.
  const PrefillEquivalent v = verification_equivalent(s);
  ChunkWork w;
  w.add(s.decode_queries, v.context - s.decode_queries, v.batch, heads, kv_heads, head_dim,
        dtype_bytes(m_.kv_cache_dtype));
  return chunk_attention(w, v.len);
}

double RooflineCostModel::decode_attention(double b, double ctx, double heads, double kv_heads, double head_dim) const {
  if (b <= 0) return 0;
  const double bytes = b * ctx * 2 * kv_heads * head_dim * dtype_bytes(m_.kv_cache_dtype) +
                       2.0 * b * heads * head_dim * kActivationBytes;
  const double flops = 4.0 * heads * head_dim * b * ctx;
  return std::max(flops / (gpu_.bf16_flops * p_.attention_efficiency), kv_read(bytes)) + p_.attention_latency_us * 1e-6;
}

std::string RooflineCostModel::allreduce_impl(const RooflineParams& p, double bytes, bool graphed) {
  const bool custom = p.allreduce == "custom" || (p.allreduce == "auto" && bytes <= p.custom_allreduce_max_bytes);
  return custom ? (graphed ? "vllm_graph" : "vllm_eager") : "nccl";
}

double RooflineCostModel::allreduce(const std::string& impl, double ranks, double bytes) const {
  if (ranks <= 1) return 0;
  const double bus = 2.0 * (ranks - 1) / ranks * bytes;  // bytes each GPU sends in a ring
  if (impl == "nccl") {
    const double eff = p_.nccl_efficiency * bytes / (bytes + p_.nccl_half_bytes);
    return bus / (nvlink_.bytes_per_s * eff) + p_.nccl_latency_us * 1e-6;
  }
  const double lat = impl == "vllm_graph" ? p_.custom_latency_us : p_.custom_eager_latency_us;
  return bus / (nvlink_.bytes_per_s * p_.custom_efficiency) + lat * 1e-6;
}

double RooflineCostModel::elementwise(double bytes) const {
  return bytes / (gpu_.hbm_bytes_per_s * p_.elementwise_bw_factor) + p_.elementwise_latency_us * 1e-6;
}

double RooflineCostModel::elementwise_layer(double t, bool dense_layer) const {
  const double h = m_.hidden, d = kActivationBytes, tp = tp_;
  const double q = static_cast<double>(m_.q_width()) / tp;
  const double kv = static_cast<double>(m_.kv_heads_per_gpu(tp_)) * m_.head_dim;
  const double ffn = static_cast<double>(dense_layer ? m_.ffn : m_.dense_ffn());
  double s = 2 * elementwise(4.0 * t * h * d);                            // fused residual add + RMSNorm
  if (ffn > 0) s += elementwise(3.0 * t * ffn / tp * d);                  // SiLU-and-mul: gate, up in; one out
  if (m_.mla.on()) {
    const MlaSpec& a = m_.mla;
    s += elementwise(2.0 * t * (static_cast<double>(m_.heads) / tp + 1) * a.qk_rope_head_dim * d);  // rope, in place
    s += elementwise(t * a.latent_width() * (d + dtype_bytes(m_.kv_cache_dtype)));  // the latent into the cache
    s += elementwise(2.0 * t * (a.q_lora_rank + a.kv_lora_rank) * d);               // the latents' RMSNorms
  } else {
    s += elementwise(2.0 * t * (q + kv) * d);                               // rope on Q and K, in place
    s += elementwise(2.0 * t * kv * (d + dtype_bytes(m_.kv_cache_dtype)));  // K and V into the paged cache
  }
  if (m_.moe.on() && !dense_layer) s += elementwise(4.0 * t * m_.moe.experts);  // top-k over fp32 router logits
  return s;
}

TokenOps RooflineCostModel::compute_token_ops(double t) const {
  TokenOps o;
  const double h = m_.hidden, tp = tp_;
  const Dtype w = m_.weight_dtype;
  const double ffn = static_cast<double>(m_.dense_ffn()) / tp;
  const AttentionProjections a = attention_projections(t);
  o.qkv = a.in;
  o.o_proj = a.out;
  o.mlp = 0;
  if (ffn > 0) o.mlp = gemm(t, h, 2.0 * ffn, w) + gemm(t, ffn, h, w);
  // The router's logits (a bf16 GEMM, replicated on every GPU) and the routed experts.
  if (m_.moe.on()) o.mlp += gemm(t, h, m_.moe.experts) + moe_experts(t);
  o.mlp += elementwise_layer(t);
  if (m_.moe.on() && m_.moe.dense_layers > 0) {  // the leading dense layers' MLP
    const double f = static_cast<double>(m_.ffn) / tp;
    o.dense_mlp = gemm(t, h, 2.0 * f, w) + gemm(t, f, h, w) + elementwise_layer(t, true);
  }
  // Two all-reduces per layer (after attention and after the MLP).
  if (tp_ > 1) {
    // vLLM's piecewise CUDA graphs cover batches of up to the capture size, mixed ones too.
    const double bytes = t * h * kActivationBytes;
    o.allreduce = 2 * allreduce(allreduce_impl(p_, bytes, t <= p_.cuda_graph_max_batch), tp, bytes);
  }
  return o;
}

IterationCost RooflineCostModel::iteration(const BatchShape& s) const {
  const std::int64_t tokens = s.tokens();
  if (tokens <= 0) return {};
  const double heads = static_cast<double>(m_.heads) / tp_;
  const double kvh = m_.kv_heads_per_gpu(tp_);
  const double layers = s.layers;
  IterationCost c = token_ops_.get(tokens, [this](double t) { return compute_token_ops(t); })
                        .over(layers, m_.dense_layers_priced(s.layers));
  if (m_.mla.on()) {
    const MlaSeconds a = mla_attention(s);
    c.attn_prefill = layers * a.prefill;
    c.attn_decode = layers * a.decode;
  } else if (!s.prefills.empty()) {
    c.attn_prefill = layers * prefill_attention(s.prefills, heads, kvh, m_.head_dim);
  }
  if (s.num_decodes > 0 && !m_.mla.on()) {
    const double ctx = static_cast<double>(s.decode_context_sum) / s.num_decodes;
    c.attn_decode = layers * (s.decode_queries > 1 ? verify_attention(s, heads, kvh, m_.head_dim)
                                                   : decode_attention(s.num_decodes, ctx, heads, kvh, m_.head_dim));
    // A mixed batch runs one attention kernel: one fixed cost, not two.
    if (!s.prefills.empty()) c.attn_decode -= layers * p_.attention_latency_us * 1e-6;
  }
  if (s.sampled > 0) c.lm_head = gemm(s.sampled, m_.hidden, static_cast<double>(m_.vocab) / tp_);
  c.cpu = p_.overhead_s(s);
  return c;
}

std::int64_t RooflineCostModel::activation_bytes(std::int64_t tokens) const {
  return tokens * m_.hidden * kActivationBytes;
}

std::string RooflineCostModel::describe() const {
  char buf[256];
  std::snprintf(buf, sizeof buf, "roofline (%s: %.0f TFLOP/s bf16 x %.2f, %.2f TB/s HBM x %.2f; no measured profile)",
                gpu_.name.c_str(), gpu_.bf16_flops / 1e12, p_.gemm_efficiency, gpu_.hbm_bytes_per_s / 1e12,
                p_.memory_efficiency);
  return buf;
}

namespace {

// The roofline's own `cost.*` keys (and the host terms every model charges), parsed where the
// model registers.
void read_roofline_params(JsonFields& f, CostSpec& spec) {
  RooflineParams& p = spec.roofline;
  p.gemm_efficiency = f.number("gemm_efficiency", p.gemm_efficiency, 0.01, 1.0,
                               Help{"roofline: GEMM throughput as a share of bf16 peak"});
  p.gemm_latency_us = f.number("gemm_latency_us", p.gemm_latency_us, 0, 1e4, Help{"roofline: fixed time per GEMM"});
  p.attention_efficiency = f.number("attention_efficiency", p.attention_efficiency, 0.01, 1.0,
                                    Help{"roofline: prefill attention at long prompts, share of bf16 peak"});
  p.attention_half_len = f.number("attention_half_len", p.attention_half_len, 0, 1e7,
                                  Help{"roofline: prompt length at which prefill attention reaches half that"});
  p.attention_latency_us =
      f.number("attention_latency_us", p.attention_latency_us, 0, 1e4, Help{"roofline: fixed time per attention call"});
  p.memory_efficiency = f.number("memory_efficiency", p.memory_efficiency, 0.01, 1.0,
                                 Help{"roofline: share of HBM peak for GEMM operands"});
  p.attention_memory_efficiency = f.number("attention_memory_efficiency", p.attention_memory_efficiency, 0.01, 1.0,
                                           Help{"roofline: share of HBM peak for attention reading the KV cache"});
  p.elementwise_bw_factor = f.number("elementwise_bw_factor", p.elementwise_bw_factor, 0.01, 1.0,
                                     Help{"roofline: element-wise kernels run at HBM x this"});
  p.elementwise_latency_us = f.number("elementwise_latency_us", p.elementwise_latency_us, 0, 1e4,
                                      Help{"roofline: fixed time per element-wise kernel"});
  p.nccl_latency_us =
      f.number("nccl_latency_us", p.nccl_latency_us, 0, 1e4, Help{"NCCL all-reduce latency (ring over NVLink)"});
  p.nccl_efficiency = f.number("nccl_efficiency", p.nccl_efficiency, 0.01, 1.0,
                               Help{"NCCL: share of NVLink bandwidth in bus bytes for large messages"});
  p.nccl_half_bytes =
      f.number("nccl_half_bytes", p.nccl_half_bytes, 0, 1e12, Help{"NCCL: message size at which it reaches half that"});
  p.custom_latency_us = f.number("custom_latency_us", p.custom_latency_us, 0, 1e4,
                                 Help{"vLLM custom all-reduce latency under CUDA graphs"});
  p.custom_eager_latency_us = f.number("custom_eager_latency_us", p.custom_eager_latency_us, 0, 1e4,
                                       Help{"vLLM custom all-reduce latency run eagerly"});
  p.custom_efficiency = f.number("custom_efficiency", p.custom_efficiency, 0.01, 1.0,
                                 Help{"vLLM custom all-reduce: share of NVLink bandwidth in bus bytes"});
  p.allreduce = f.choice("allreduce", "auto", {"auto", "custom", "nccl"},
                         Help{"auto: vLLM's custom all-reduce up to custom_allreduce_max_bytes, then NCCL"});
  p.custom_allreduce_max_bytes = f.number("custom_allreduce_max_bytes", p.custom_allreduce_max_bytes, 0, 1e12,
                                          Help{"the custom all-reduce's buffer, bytes"});
  p.graph_overhead_us = f.number("graph_overhead_us", p.graph_overhead_us, 0, 1e6,
                                 Help{"host time per iteration replayed from a CUDA graph"});
  p.eager_overhead_us = f.number("eager_overhead_us", p.eager_overhead_us, 0, 1e6,
                                 Help{"host time per iteration run eagerly (prefill, mixed, big batches)"});
  p.cpu_per_seq_us = f.number("cpu_per_seq_us", p.cpu_per_seq_us, 0, 1e4, Help{"host time per sequence in the batch"});
  p.moe_routing = f.choice(
      "moe_routing", p.moe_routing, {"balanced", "power_law_1.01", "power_law_1.2"},
      Help{"MoE routing as the measured tables time it: balanced, power_law_1.01 (mild skew) or power_law_1.2"});
  p.cuda_graph_max_batch = static_cast<int>(f.integer("cuda_graph_max_batch", p.cuda_graph_max_batch, 0, 1 << 20,
                                                      Help{"decode-only batches up to this size replay a CUDA graph"}));
}

}  // namespace

KUNSIM_REGISTER_COST_MODEL(roofline, "roofline", "datasheet peaks x fitted efficiencies, plus fixed overheads",
                           (CostModelKind{.needs_profile = false,
                                          .make = [](const CostModelInputs& in) -> std::unique_ptr<CostModel> {
                                            return std::make_unique<RooflineCostModel>(in.model, in.cluster.gpu,
                                                                                       in.cluster.nvlink, in.tp, in.params);
                                          },
                                          .read_params = read_roofline_params}));

}  // namespace kunsim
