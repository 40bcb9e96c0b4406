// RooflineCostModel: prices each op as max(FLOPs / (peak x efficiency), bytes / (HBM x
// efficiency)) plus a fixed launch cost, for the shard one GPU of a TP group runs. It stands in
// wherever no measured profile exists; its efficiencies are scenario keys (`cost.*`).
#pragma once
#include <vector>

#include "sim/cluster/cluster_spec.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

struct RooflineParams {
  double gemm_efficiency = 0.80;          // of bf16 peak (H100: ~798 of 989 TFLOP/s measured)
  double attention_efficiency = 0.55;     // prefill attention, of bf16 peak
  double memory_efficiency = 0.85;        // of HBM peak (H100 copy: ~3.0 of 3.35 TB/s)
  double kernel_overhead_us = 2.0;        // per kernel launch
  double cpu_overhead_us = 1500.0;        // per iteration: scheduling, sampling, Python
  double cpu_per_seq_us = 8.0;            // per sequence in the batch
  double allreduce_latency_us = 8.0;      // per all-reduce, on top of its bandwidth term
};

// A scenario's `cost` section: which model prices iterations, and the roofline's parameters
// (which also price what a measured profile lacks).
struct CostSpec {
  // "auto": the shipped profile of the GPU kind where one covers the model and TP degree, else
  // the roofline; "roofline"; "profile" (with `profile`, a folder).
  std::string model = "auto";
  std::string profile;             // the profile folder, with model "profile"
  RooflineParams roofline;
};

CostSpec cost_spec_from_json(const Json* j, const std::string& path);

class RooflineCostModel final : public CostModel {
 public:
  RooflineCostModel(const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink, int tp,
                    RooflineParams params);
  IterationCost iteration(const BatchShape& shape) const override;
  std::int64_t activation_bytes(std::int64_t tokens) const override;
  std::string describe() const override;

  // One GEMM of [m x k] by [k x n] on this GPU (seconds).
  double gemm(double m, double k, double n) const;

 private:
  double memory_bound(double bytes) const;
  // Per-layer cost of the ops that depend only on the batch's token count (QKV, O, MLP with
  // its element-wise passes, all-reduce), computed once per count: the hot-path lookup table.
  struct TokenOps {
    double qkv = -1, o_proj = 0, mlp = 0, allreduce = 0;
  };
  const TokenOps& token_ops(std::int64_t tokens) const;
  TokenOps compute_token_ops(double tokens) const;
  mutable std::vector<TokenOps> token_ops_;
  ModelSpec m_;
  GpuSpec gpu_;
  LinkParams nvlink_;
  int tp_;
  RooflineParams p_;
};

}  // namespace kunsim
