// RooflineCostModel: prices each op as max(FLOPs / (peak x efficiency), bytes / (HBM x
// efficiency)) plus a fixed launch cost, for the shard one GPU of a TP group runs. It stands in
// wherever no measured profile exists; its efficiencies are scenario keys (`cost.*`).
#pragma once
#include <vector>

#include "sim/cluster/cluster_spec.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/cost/roofline_params.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {


class RooflineCostModel final : public CostModel {
 public:
  RooflineCostModel(const ModelSpec& model, const GpuSpec& gpu, const LinkParams& nvlink, int tp,
                    RooflineParams params);
  IterationCost iteration(const BatchShape& shape) const override;
  std::int64_t activation_bytes(std::int64_t tokens) const override;
  std::string describe() const override;

  // One GEMM of [m x k] bf16 activations by [k x n] weights stored in `w` on this GPU (seconds);
  // fp8 weights run at the fp8 peak.
  double gemm(double m, double k, double n, Dtype w = Dtype::bf16) const;
  // The attention block's GEMMs for `tokens` tokens on this GPU (ModelSpec::attention_in_gemms,
  // attention_out_gemm): those before attention and the output projection.
  struct AttentionProjections {
    double in = 0, out = 0;
  };
  AttentionProjections attention_projections(double tokens) const;
  // One MoE layer's routed experts (vLLM's fused_experts) for `tokens` tokens, as this GPU runs
  // its share: the grouped gate/up and down GEMMs of the experts the tokens touch (about
  // E(1 - (1 - k/E)^T) of them), their weights read once each, the tokens' copies in and out.
  double moe_experts(double tokens) const;
  // Prefill attention of a batch of chunks (each after its cached context), per layer.
  double prefill_attention(const std::vector<PrefillChunk>& chunks, double heads, double kv_heads, double head_dim) const;
  // Decode attention: `batch` requests attending to `context` tokens each, per layer.
  double decode_attention(double batch, double context, double heads, double kv_heads, double head_dim) const;
  // The decodes of `s` verifying speculative drafts (decode_queries tokens each), per layer.
  double verify_attention(const BatchShape& s, double heads, double kv_heads, double head_dim) const;
  // Multi-head latent attention of a batch, per layer: its prefill chunks (vLLM's prefill path
  // expands keys and values from the latent and runs attention at qk_nope + qk_rope / v_head
  // widths) and its decodes (the absorbed path: every query head reads the one cached latent,
  // scores over kv_lora_rank + qk_rope_head_dim and sums values over kv_lora_rank).
  struct MlaSeconds {
    double prefill = 0, decode = 0;
  };
  MlaSeconds mla_attention(const BatchShape& s) const;
  // One all-reduce of `bytes` over `ranks` GPUs by an implementation ("vllm_graph",
  // "vllm_eager", "nccl").
  double allreduce(const std::string& impl, double ranks, double bytes) const;
  // The implementation vLLM uses for a message: its custom all-reduce up to the buffer size
  // (graph-replayed or eager as the iteration runs), NCCL above; cost.allreduce may force one.
  static std::string allreduce_impl(const RooflineParams& p, double bytes, bool graphed);
  // A memory-bound element-wise kernel moving `bytes` (aiconfigurator's correction).
  double elementwise(double bytes) const;
  // Per layer, the element-wise kernels of `tokens` tokens: two fused residual-add RMSNorms,
  // SiLU-and-mul of a dense MLP (or shared experts), rope on Q and K, the KV-cache write, and
  // an MoE router's top-k over its logits; `dense_layer`: an MoE model's dense layer.
  double elementwise_layer(double tokens, bool dense_layer = false) const;

 private:
  // What attention does on this GPU per query token and key it attends to: MLA's two paths
  // differ in widths, not in form.
  struct AttentionDims {
    double heads = 0;              // query heads
    double flops_per_key = 0;      // per query head per key: scores and values
    double kv_bytes_per_key = 0;   // cache bytes read per key
    double q_bytes_per_query = 0;  // Q in and O out per query token (bf16)
  };
  AttentionDims mla_dims(bool decode) const;
  // Attention work of chunks after cached contexts: FLOPs and bytes moved, summed.
  struct ChunkWork {
    double flops = 0, bytes = 0;
    void add(double n, double ctx, double count, double heads, double kv_heads, double head_dim, double kv_bytes);
    void add(double n, double ctx, double count, const AttentionDims& d);
  };
  // Seconds of that work in one kernel whose equivalent prompt length is `len`.
  double chunk_attention(const ChunkWork& w, double len) const;
  double memory_bound(double bytes) const;
  double kv_read(double bytes) const;
  TokenOps compute_token_ops(double tokens) const;
  TokenOpsTable token_ops_;
  ModelSpec m_;
  GpuSpec gpu_;
  LinkParams nvlink_;
  int tp_;
  RooflineParams p_;
};

}  // namespace kunsim
