// KernelTableCostModel: prices any model's iterations from a GPU kind's kernel tables (profile
// format 2: GEMMs over (m, n, k), prefill and decode attention over (batch, length) per head
// shape, all-reduce per implementation), by interpolation at run time:
// - QKV, O, gate/up, down: GemmTable of the weights' dtype (bf16, fp8, fp8_block) at this TP
//   shard's (n, k); the LM head and an MoE router's gate in bf16, as vLLM keeps them;
// - an MoE layer's routed experts: the MoE table at this GPU's configuration (moe_tp = tp, or
//   moe_ep = tp under expert parallelism) and cost.moe_routing, else the roofline's count of the
//   experts the tokens touch;
// - MLA attention: vLLM's whole attention module (projections, attention, o_proj) from the MLA
//   module tables at this GPU's heads, GEMM and KV dtypes (DeepSeek-V3's shape); else the
//   attention kernel's table with the projections from the GEMM tables; else the roofline's
//   attention with those projections;
// - attention: the shard's head shape, measured or derived (AttentionTable); chunked prefill
//   over cached context and batches of prompts through prefill_equivalent(), bounded below by
//   reading their context as decodes do; a mixed batch is one kernel, so one fixed cost;
// - all-reduce: vLLM's choice (RooflineCostModel::allreduce_impl) from the measured rows of
//   this GPU count, the roofline where the table has none;
// - element-wise kernels (RMSNorm, SiLU-and-mul, rope, KV-cache write) and host overheads: the
//   roofline (no public measurements exist), with aiconfigurator's memory correction.
// describe() says exactly what priced what. Token-count ops are tabulated on first use.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "sim/cost/interpolator.hpp"
#include "sim/cost/kernel_table_interp.hpp"
#include "sim/cost/profile.hpp"
#include "sim/cost/roofline_cost_model.hpp"

namespace kunsim {

class KernelTableCostModel final : public CostModel {
 public:
  KernelTableCostModel(const Profile& profile, const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink,
                       int tp, RooflineParams params);
  IterationCost iteration(const BatchShape& shape) const override;
  std::int64_t activation_bytes(std::int64_t tokens) const override { return roofline_.activation_bytes(tokens); }
  std::string describe() const override { return description_; }

  // One all-reduce of `bytes` by `impl` over this TP degree: measured, else the roofline.
  double allreduce(const std::string& impl, double bytes) const;

 private:
  TokenOps compute_token_ops(double tokens) const;
  ModelSpec m_;
  int tp_;
  RooflineParams p_;
  RooflineCostModel roofline_;
  std::shared_ptr<const KernelTableIndex> index_;  // the profile's, or built here for a bare one
  TabulatedAttention prefill_, decode_;
  void price_mla(std::vector<std::string>& derived, std::vector<std::string>& roofline);
  std::vector<GemmCurve> attn_in_;                    // the GEMMs before attention (GQA: QKV; MLA: its projections)
  GemmCurve o_proj_, gate_up_, down_, lm_head_gemm_;  // GemmTable::curve at this shard's (n, k)
  bool mla_module_ = false;    // the MLA tables price the whole attention module, projections too
  bool mla_roofline_ = false;  // MLA attention by the roofline (no table of its shape)
  GemmCurve router_;                                        // an MoE router's [hidden x experts] GEMM
  GemmCurve dense_gate_up_, dense_down_;                    // an MoE model's leading dense layers' MLP
  bool linear_roofline_ = false;         // no rows of the weights' dtype: linear layers by the roofline
  MoeShape moe_shape_;                   // the configuration this GPU runs
  const Interpolator1D* moe_ = nullptr;  // its measured curve (the profile's index owns it), or null
  std::vector<std::pair<std::string, Interpolator1D>> allreduce_;  // impl -> time over bytes, this TP
  double lm_head(int sampled) const;
  TokenOpsTable token_ops_;
  mutable std::vector<double> lm_head_;  // by sequences sampled; < 0 until first read
  std::string description_;
  std::string description_mla_;  // the MLA table that prices attention, if one does
};

}  // namespace kunsim
