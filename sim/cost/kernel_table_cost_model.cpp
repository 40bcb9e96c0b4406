#include "sim/cost/kernel_table_cost_model.hpp"

#include <algorithm>

namespace kunsim {
KernelTableCostModel::KernelTableCostModel(const Profile& p, const ModelSpec& model, const GpuSpec& gpu,
                                           const LinkParams& nvlink, int tp, RooflineParams params)
    : m_(model),
      tp_(tp),
      p_(params),
      roofline_(model, gpu, nvlink, tp, params),
      index_(p.kernel_index ? p.kernel_index : std::make_shared<const KernelTableIndex>(p.kernels)) {
  if (index_->gemm.empty() || index_->prefill.empty() || index_->decode.empty())
    throw InputError(p.dir + ": a kernel-table profile needs GEMM, prefill and decode attention rows");
  const HeadShape shard{model.heads / tp, model.kv_heads_per_gpu(tp), model.head_dim};
  const double h = model.hidden, ffn = static_cast<double>(model.dense_ffn()) / tp;
  std::vector<std::string> derived, roofline = {"rmsnorm", "silu_mul", "rope", "kv-cache write", "host overhead"};
  // Linear layers from the rows of their weight dtype; a profile without them (fp8 where only
  // bf16 was measured) leaves them to the roofline at that dtype's peak.
  const GemmTable& linear = index_->gemm_of(model.weight_dtype);
  linear_roofline_ = linear.empty();
  if (linear_roofline_) {
    roofline.push_back(std::string(dtype_name(model.weight_dtype)) + " GEMMs (no such rows)");
  } else {
    for (const LinearShape& g : model.attention_in_gemms(tp)) attn_in_.push_back(linear.curve(g.n, g.k));
    const LinearShape out = model.attention_out_gemm(tp);
    o_proj_ = linear.curve(out.n, out.k);
    if (ffn > 0) {
      gate_up_ = linear.curve(2 * ffn, h);
      down_ = linear.curve(h, ffn);
    }
    if (model.moe.on() && model.moe.dense_layers > 0) {
      const double f = static_cast<double>(model.ffn) / tp;
      dense_gate_up_ = linear.curve(2 * f, h);
      dense_down_ = linear.curve(h, f);
    }
  }
  lm_head_gemm_ = index_->gemm.curve(static_cast<double>(model.vocab) / tp, h);  // bf16, as vLLM keeps it
  if (model.moe.on()) {
    router_ = index_->gemm.curve(model.moe.experts, h);
    moe_shape_ = MoeShape{.dtype = model.expert_dtype(),
                          .hidden = model.hidden,
                          .inter = model.moe.expert_ffn,
                          .topk = model.moe.top_k,
                          .experts = model.moe.experts,
                          .moe_tp = model.expert_parallel ? 1 : tp,
                          .moe_ep = model.expert_parallel ? tp : 1,
                          .distribution = params.moe_routing};
    moe_ = index_->moe().curve(moe_shape_);
    if (!moe_) roofline.push_back("MoE experts " + moe_shape_.text() + " (not in the tables)");
  }
  bool fp8kv_derived = false;
  if (model.mla.on()) {
    price_mla(derived, roofline);
  } else {
    // Attention on the cache's dtype; an fp8 cache the profile did not measure is read from the
    // bf16 kernels by equal work: decode at half the batch (the same KV bytes), prefill as is
    // (bound by FLOPs, which the cache's dtype does not change).
    const AttentionTable& prefill_table = index_->prefill_of(model.kv_cache_dtype);
    const AttentionTable& decode_table = index_->decode_of(model.kv_cache_dtype);
    fp8kv_derived = model.kv_cache_dtype != Dtype::bf16 && decode_table.empty();
    prefill_ = TabulatedAttention((prefill_table.empty() ? index_->prefill : prefill_table).curve(shard));
    AttentionCurve decode_curve = (fp8kv_derived ? index_->decode : decode_table).curve(shard);
    if (fp8kv_derived) {
      decode_curve.batch_scale *= 0.5;
      decode_curve.derived = true;
      if (decode_curve.reference.heads == 0) decode_curve.reference = shard;
      derived.push_back("fp8-KV attention from the bf16-KV kernels (decode at half the batch: equal KV bytes)");
    }
    decode_ = TabulatedAttention(decode_curve);
  }
  for (const char* impl : kAllreduceImpls) {
    std::vector<std::pair<double, double>> xy;
    for (const auto& r : p.kernels.allreduce)
      if (r.impl == impl && r.gpus == tp) xy.emplace_back(r.bytes, r.us * 1e-6);
    if (!xy.empty()) allreduce_.emplace_back(impl, Interpolator1D(std::move(xy)));
  }
  description_ = "measured: " + p.describe() + " [" + p.name + "]";
  if (moe_) description_ += "; MoE experts " + moe_shape_.text();
  if (!description_mla_.empty()) description_ += "; " + description_mla_;
  if (prefill_.curve().derived)
    derived.push_back("prefill attention " + shard.text() + " from " + prefill_.curve().reference.text());
  if (decode_.curve().derived && !fp8kv_derived)
    derived.push_back("decode attention " + shard.text() + " from " + decode_.curve().reference.text());
  if (tp > 1) {
    for (const char* impl : kAllreduceImpls) {
      const bool have = std::any_of(allreduce_.begin(), allreduce_.end(), [&](const auto& a) { return a.first == impl; });
      if (!have) roofline.push_back(std::string("all-reduce ") + impl + " at " + std::to_string(tp) + " GPUs");
    }
  }
  if (!derived.empty()) {
    description_ += "; derived: ";
    for (std::size_t i = 0; i < derived.size(); ++i) description_ += (i ? ", " : "") + derived[i];
  }
  description_ += "; roofline: ";
  for (std::size_t i = 0; i < roofline.size(); ++i) description_ += (i ? ", " : "") + roofline[i];
}

void KernelTableCostModel::price_mla(std::vector<std::string>& derived, std::vector<std::string>& roofline) {
  const MlaSpec& a = m_.mla;
  const bool whole_heads = m_.heads % tp_ == 0;
  // The module tables time vLLM's fp8 linear layers block-scaled (DeepGEMM): per-tensor fp8
  // weights are read from those rows.
  MlaShape want{.module = true,
                .hidden = m_.hidden,
                .q_lora_rank = a.q_lora_rank,
                .kv_lora_rank = a.kv_lora_rank,
                .qk_nope_head_dim = a.qk_nope_head_dim,
                .qk_rope_head_dim = a.qk_rope_head_dim,
                .v_head_dim = a.v_head_dim,
                .gemm = m_.weight_dtype == Dtype::bf16 ? Dtype::bf16 : Dtype::fp8_block,
                .kv = m_.kv_cache_dtype,
                .heads = m_.heads / tp_};
  const AttentionGrid* context = whole_heads ? index_->mla(false).grid(want) : nullptr;
  const AttentionGrid* generation = whole_heads ? index_->mla(true).grid(want) : nullptr;
  if (context && generation) {
    mla_module_ = true;
    if (m_.weight_dtype == Dtype::fp8) derived.push_back("the MLA module's fp8 GEMMs from its fp8_block rows");
  } else {
    // The attention kernel alone: its key is the latent's shape, heads and the cache's dtype.
    want.module = false;
    want.hidden = want.q_lora_rank = 0;
    want.gemm = Dtype::bf16;
    context = whole_heads ? index_->mla(false).grid(want) : nullptr;
    generation = whole_heads ? index_->mla(true).grid(want) : nullptr;
  }
  if (context && generation) {
    AttentionCurve curve;
    curve.grid = context;
    prefill_ = TabulatedAttention(curve);
    curve.grid = generation;
    decode_ = TabulatedAttention(curve);
    description_mla_ = std::string("MLA ") + want.text();
    return;
  }
  mla_roofline_ = true;
  roofline.push_back("MLA attention " + std::to_string(m_.heads) + "/" + std::to_string(tp_) + " heads " +
                     dtype_name(m_.kv_cache_dtype) + " KV (not in the MLA tables)");
}

double KernelTableCostModel::allreduce(const std::string& impl, double bytes) const {
  for (const auto& [name, curve] : allreduce_)
    if (name == impl) return curve.at(bytes);
  return roofline_.allreduce(impl, tp_, bytes);
}

TokenOps KernelTableCostModel::compute_token_ops(double t) const {
  TokenOps o;
  const double h = m_.hidden;
  const double ffn = static_cast<double>(m_.dense_ffn()) / tp_;
  const Dtype w = m_.weight_dtype;
  if (mla_module_) {  // the module's time holds its projections
    o.qkv = o.o_proj = 0;
  } else if (linear_roofline_) {
    const RooflineCostModel::AttentionProjections a = roofline_.attention_projections(t);
    o.qkv = a.in;
    o.o_proj = a.out;
  } else {
    o.qkv = 0;
    for (const GemmCurve& g : attn_in_) o.qkv += g.at(t);
    o.o_proj = o_proj_.at(t);
  }
  o.mlp = 0;
  if (ffn > 0)
    o.mlp = linear_roofline_ ? roofline_.gemm(t, h, 2 * ffn, w) + roofline_.gemm(t, ffn, h, w)
                             : gate_up_.at(t) + down_.at(t);
  // An MoE layer: the router's logits (bf16) and the routed experts, measured or the roofline's.
  if (m_.moe.on()) o.mlp += router_.at(t) + (moe_ ? moe_->at(t) : roofline_.moe_experts(t));
  o.mlp += roofline_.elementwise_layer(t);
  if (m_.moe.on() && m_.moe.dense_layers > 0) {  // the leading dense layers' MLP
    const double f = static_cast<double>(m_.ffn) / tp_;
    o.dense_mlp = (linear_roofline_ ? roofline_.gemm(t, h, 2 * f, w) + roofline_.gemm(t, f, h, w)
                                    : dense_gate_up_.at(t) + dense_down_.at(t)) +
                  roofline_.elementwise_layer(t, true);
  }
  o.allreduce = 0;
  if (tp_ > 1) {
    const double bytes = t * h * kActivationBytes;
    o.allreduce = 2 * allreduce(RooflineCostModel::allreduce_impl(p_, bytes, t <= p_.cuda_graph_max_batch), bytes);
  }
  return o;
}

double KernelTableCostModel::lm_head(int sampled) const {
  const auto at = [&] { return lm_head_gemm_.at(sampled); };
  if (sampled >= (1 << 16)) return at();
  if (static_cast<int>(lm_head_.size()) <= sampled) lm_head_.resize(static_cast<std::size_t>(sampled) + 1, -1.0);
  double& t = lm_head_[static_cast<std::size_t>(sampled)];
  if (t < 0) t = at();
  return t;
}

IterationCost KernelTableCostModel::iteration(const BatchShape& s) const {
  const std::int64_t tokens = s.tokens();
  if (tokens <= 0) return {};
  const double layers = s.layers;
  IterationCost c = token_ops_.get(tokens, [this](double t) { return compute_token_ops(t); })
                        .over(layers, m_.dense_layers_priced(s.layers));
  if (mla_roofline_) {
    const RooflineCostModel::MlaSeconds a = roofline_.mla_attention(s);
    c.attn_prefill = layers * a.prefill;
    c.attn_decode = layers * a.decode;
  } else if (!s.prefills.empty()) {
    const PrefillEquivalent e = prefill_equivalent(s.prefills);
    const int b = static_cast<int>(s.prefills.size());
    c.attn_prefill = layers * std::max(prefill_.seconds(b, e.len), decode_.seconds(b, e.context));
  }
  if (s.num_decodes > 0 && !mla_roofline_) {
    const double ctx = static_cast<double>(s.decode_context_sum) / s.num_decodes;
    double t = decode_.seconds(s.num_decodes, ctx);
    if (s.decode_queries > 1 && mla_module_) {
      // vLLM's MLA decode path takes the drafts as queries (FlashMLA: several a request): the
      // generation module at one row per query token, its projections exact and its latent
      // read once a query (the kernel reads it once a request: an upper bound). A context
      // module at the equal-work length would run projections for that length, not k + 1.
      t = decode_.seconds(s.num_decodes * s.decode_queries, ctx);
    } else if (s.decode_queries > 1) {
      // Verifying drafts: a chunk after each context, priced as prefill chunks are.
      const PrefillEquivalent v = verification_equivalent(s);
      t = std::max(prefill_.seconds(s.num_decodes, v.len), decode_.seconds(s.num_decodes, v.context));
    }
    // A mixed batch is one varlen attention kernel: its fixed cost is paid once.
    if (!s.prefills.empty()) t = std::max(t - decode_.curve().grid->floor(), 0.0);
    c.attn_decode = layers * t;
  }
  if (s.sampled > 0) c.lm_head = lm_head(s.sampled);
  c.cpu = p_.overhead_s(s);
  return c;
}

}  // namespace kunsim
