#include "sim/cost/profile_cost_model.hpp"

#include "sim/cost/cost_choice.hpp"
#include "sim/cost/kernel_table_cost_model.hpp"

namespace kunsim {
namespace {

Interpolator1D curve(const Profile& p, const char* op, const std::string& model, int tp, bool required) {
  const auto* pts = p.find(op, model, tp);
  if (!pts) {
    if (required)
      throw InputError(p.dir + ": profile has no \"" + op + "\" rows for " + model + " tp=" + std::to_string(tp) +
                       " (run kunsim-calibrate for it, or use cost.model=roofline)");
    return {};
  }
  std::vector<std::pair<double, double>> xy;
  for (const auto& pt : *pts) xy.emplace_back(pt.p1, pt.seconds);
  return Interpolator1D(std::move(xy));
}

}  // namespace

ProfileCostModel::ProfileCostModel(const Profile& p, const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink,
                                   int tp, RooflineParams fallback)
    : model_(model), tp_(tp), roofline_(model, gpu, nvlink, tp, fallback) {
  qkv_ = curve(p, "gemm_qkv", model.name, tp, true);
  o_ = curve(p, "gemm_o", model.name, tp, true);
  gate_up_ = curve(p, "gemm_gate_up", model.name, tp, true);
  down_ = curve(p, "gemm_down", model.name, tp, true);
  silu_ = curve(p, "silu_mul", model.name, tp, true);
  norm_ = curve(p, "rmsnorm", model.name, tp, true);
  allreduce_ = curve(p, "allreduce", model.name, tp, false);
  rope_ = curve(p, "rope_cache", model.name, tp, false);
  lm_head_ = curve(p, "gemm_lm_head", model.name, tp, false);
  for (auto [op, into] : {std::pair{"attn_prefill", &prefill_}, std::pair{"attn_decode", &decode_}}) {
    const auto* pts = p.find(op, model.name, tp);
    if (!pts) throw InputError(p.dir + ": profile has no \"" + std::string(op) + "\" rows for " + model.name);
    *into = Interpolator2D(*pts);
  }
  const std::string gpu_name = p.meta.is_object() ? p.meta.value("gpu", std::string("?")) : std::string("?");
  const std::string date = p.meta.is_object() ? p.meta.value("date", std::string("?")) : std::string("?");
  std::string fallback_ops = lm_head_.empty() ? "the LM head, " : "";
  if (rope_.empty()) fallback_ops += "rope, ";
  if (allreduce_.empty() && tp > 1) fallback_ops += "all-reduce, ";
  description_ = "profile " + p.dir + " (" + gpu_name + ", measured " + date + "); roofline for " + fallback_ops +
                 "CPU overhead";
}

TokenOps ProfileCostModel::compute_token_ops(double t) const {
  TokenOps o;
  o.qkv = qkv_.at(t) + (rope_.empty() ? 0.0 : rope_.at(t));
  o.o_proj = o_.at(t);
  o.mlp = gate_up_.at(t) + down_.at(t) + silu_.at(t) + 2 * norm_.at(t);
  o.allreduce = 0;
  if (tp_ > 1) {
    const double bytes = t * model_.hidden * kActivationBytes;
    if (!allreduce_.empty()) {
      o.allreduce = 2 * allreduce_.at(bytes);
    } else {
      BatchShape one;
      one.prefills = {{static_cast<int>(t), 0}};
      one.layers = 1;
      o.allreduce = roofline_.iteration(one).allreduce;
    }
  }
  return o;
}

IterationCost ProfileCostModel::iteration(const BatchShape& s) const {
  const std::int64_t tokens = s.tokens();
  if (tokens <= 0) return {};
  const double layers = s.layers;
  IterationCost c = token_ops_.get(tokens, [this](double t) { return compute_token_ops(t); }).over(layers);
  for (const auto& ch : s.prefills) c.attn_prefill += layers * prefill_.at(ch.tokens, ch.context);
  // Decodes verifying drafts: as many decodes as queries, each reading its context (an upper
  // bound: a measured chunk-after-context kernel reads it once, and this profile has none).
  if (s.num_decodes > 0)
    c.attn_decode = layers * decode_.at(s.num_decodes * s.decode_queries,
                                        static_cast<double>(s.decode_context_sum) * s.decode_queries);
  const IterationCost r = roofline_.iteration(s);
  c.lm_head = lm_head_.empty() || s.sampled <= 0 ? r.lm_head : lm_head_.at(s.sampled);
  c.cpu = r.cpu;
  return c;
}

// A measured profile: NVIDIA's imported production-kernel tables (format 2), or the per-op
// times kunsim-calibrate measured of kunsim's own kernels.
KUNSIM_REGISTER_COST_MODEL(profile, "profile",
                           "measured kernel times: imported production tables or kunsim-calibrate's",
                           (CostModelKind{.needs_profile = true,
                                          .make = [](const CostModelInputs& in) -> std::unique_ptr<CostModel> {
                                            const GpuSpec& gpu = in.cluster.gpu;
                                            if (in.profile->format == 2)
                                              return std::make_unique<KernelTableCostModel>(
                                                  *in.profile, in.model, gpu, in.cluster.nvlink, in.tp, in.params);
                                            return std::make_unique<ProfileCostModel>(
                                                *in.profile, in.model, gpu, in.cluster.nvlink, in.tp, in.params);
                                          },
                                          .read_params = nullptr}));  // priced by tables; the roofline's keys serve it

}  // namespace kunsim
