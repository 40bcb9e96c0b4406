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
  const double h = model.hidden, q = static_cast<double>(model.q_width()) / tp,
               kv = static_cast<double>(model.kv_heads_per_gpu(tp)) * model.head_dim,
               ffn = static_cast<double>(model.ffn) / tp;
  qkv_ = index_->gemm.curve(q + 2 * kv, h);
  o_proj_ = index_->gemm.curve(h, q);
  gate_up_ = index_->gemm.curve(2 * ffn, h);
  down_ = index_->gemm.curve(h, ffn);
  lm_head_gemm_ = index_->gemm.curve(static_cast<double>(model.vocab) / tp, h);
  prefill_ = TabulatedAttention(index_->prefill.curve(shard));
  decode_ = TabulatedAttention(index_->decode.curve(shard));
  for (const char* impl : kAllreduceImpls) {
    std::vector<std::pair<double, double>> xy;
    for (const auto& r : p.kernels.allreduce)
      if (r.impl == impl && r.gpus == tp) xy.emplace_back(r.bytes, r.us * 1e-6);
    if (!xy.empty()) allreduce_.emplace_back(impl, Interpolator1D(std::move(xy)));
  }
  description_ = "measured: " + p.describe() + " [" + p.name + "]";
  std::vector<std::string> derived, roofline = {"rmsnorm", "silu_mul", "rope", "kv-cache write", "host overhead"};
  if (prefill_.curve().derived)
    derived.push_back("prefill attention " + shard.text() + " from " + prefill_.curve().reference.text());
  if (decode_.curve().derived)
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

double KernelTableCostModel::allreduce(const std::string& impl, double bytes) const {
  for (const auto& [name, curve] : allreduce_)
    if (name == impl) return curve.at(bytes);
  return roofline_.allreduce(impl, tp_, bytes);
}

TokenOps KernelTableCostModel::compute_token_ops(double t) const {
  TokenOps o;
  const double h = m_.hidden;
  o.qkv = qkv_.at(t);
  o.o_proj = o_proj_.at(t);
  o.mlp = gate_up_.at(t) + down_.at(t) + roofline_.elementwise_layer(t);
  o.allreduce = 0;
  if (tp_ > 1) {
    const double bytes = t * h * m_.dtype_bytes;
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
  IterationCost c = token_ops_.get(tokens, [this](double t) { return compute_token_ops(t); }).over(layers);
  if (!s.prefills.empty()) {
    const PrefillEquivalent e = prefill_equivalent(s.prefills);
    const int b = static_cast<int>(s.prefills.size());
    c.attn_prefill = layers * std::max(prefill_.seconds(b, e.len), decode_.seconds(b, e.context));
  }
  if (s.num_decodes > 0) {
    const double ctx = static_cast<double>(s.decode_context_sum) / s.num_decodes;
    double t = decode_.seconds(s.num_decodes, ctx);
    if (s.decode_queries > 1) {
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
