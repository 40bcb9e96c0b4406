// ProfileCostModel: iteration costs from a measured Profile of one GPU kind, for one model and
// TP degree: per-layer op times interpolated over the measured grid (Interpolator1D/2D) and
// extrapolated past it in the roofline's form. The token-count ops are tabulated on first use.
// What a profile does not measure (the LM head or rope without their rows, all-reduce without
// rows for this TP degree, CPU overhead) comes from the roofline, and describe() says so.
#pragma once
#include <memory>

#include "sim/cost/interpolator.hpp"
#include "sim/cost/roofline_cost_model.hpp"

namespace kunsim {

class ProfileCostModel final : public CostModel {
 public:
  // Throws InputError when the profile lacks an op for (model, tp).
  ProfileCostModel(const Profile& profile, const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink, int tp,
                   RooflineParams fallback);
  IterationCost iteration(const BatchShape& shape) const override;
  std::int64_t activation_bytes(std::int64_t tokens) const override { return roofline_.activation_bytes(tokens); }
  std::string describe() const override { return description_; }

 private:
  TokenOps compute_token_ops(double tokens) const;
  ModelSpec model_;
  int tp_;
  RooflineCostModel roofline_;
  Interpolator1D qkv_, o_, gate_up_, down_, silu_, norm_, allreduce_, rope_, lm_head_;
  Interpolator2D prefill_, decode_;
  TokenOpsTable token_ops_;
  std::string description_;
};

}  // namespace kunsim
