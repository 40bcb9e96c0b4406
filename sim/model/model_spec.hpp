// ModelSpec: the shape of a decoder-only transformer (Llama/Qwen/Mixtral family: GQA attention;
// DeepSeek-V3 family: multi-head latent attention; gated SiLU MLP or a mixture of gated experts,
// RMSNorm) and the byte counts derived from it, in the dtypes it is served in. Whole-model sizes
// are at TP 1; the *_per_gpu figures are what one GPU of a TP group holds: attention and dense
// MLPs split by TP (KV heads replicated when tp > kv_heads; MLA's down-projections and latent
// cache replicated on every rank), routed experts split by TP or, under expert parallelism,
// dealt out whole.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/model/dtype.hpp"

namespace kunsim {

// A mixture-of-experts MLP: each token runs `top_k` of `experts` gated-SiLU experts of
// `expert_ffn` (chosen by a router, a [hidden x experts] GEMM), plus any shared experts that
// every token runs. The first `dense_layers` layers keep a dense MLP of the model's `ffn`
// (DeepSeek-V3's first_k_dense_replace: 3); the rest are MoE layers (all of Mixtral's and
// Qwen3-MoE's).
struct MoeSpec {
  int experts = 0;  // routed experts; 0: a dense model
  int top_k = 0;
  int expert_ffn = 0;
  int shared_experts = 0;
  int shared_expert_ffn = 0;
  int dense_layers = 0;
  // The routed experts' storage where the checkpoint quantises them apart from the rest
  // (gpt-oss: mxfp4); unset, the model's weight dtype.
  std::optional<Dtype> expert_dtype;
  bool on() const { return experts > 0; }
};

// Sliding-window attention (gpt-oss: a 128-token window in every other layer; Gemma 3: five
// layers in six). A sliding layer attends to the last `window` tokens only, and vLLM frees its
// blocks wholly outside the window: per request it holds cdiv(window - 1, block) + 1 blocks of
// such layers (9 at window 128, block 16) however long the context. Every full_every-th layer
// (the last of each run) attends to everything.
struct SlidingWindowSpec {
  int window = 0;  // tokens; 0: every layer attends to all
  int full_every = 2;
  bool on() const { return window > 0; }
  bool sliding(int layer) const { return on() && (layer + 1) % full_every != 0; }
};

// Multi-head latent attention (DeepSeek-V2/V3, Kimi K2). Each token's keys and values are one
// latent of kv_lora_rank plus a shared rope key of qk_rope_head_dim: that (576 wide for
// DeepSeek-V3) is all the cache holds per layer, one "KV head" that every query head reads.
// Queries go through their own low-rank bottleneck (q_lora_rank; 0: projected directly). vLLM
// keeps the down-projections (fused_qkv_a_proj) and the latent cache whole on every TP rank and
// splits the heads: q_b_proj, kv_b_proj and o_proj.
struct MlaSpec {
  int q_lora_rank = 0;
  int kv_lora_rank = 0;  // 0: not MLA
  int qk_nope_head_dim = 0;
  int qk_rope_head_dim = 0;
  int v_head_dim = 0;
  bool on() const { return kv_lora_rank > 0; }
  int latent_width() const { return kv_lora_rank + qk_rope_head_dim; }  // cached per token and layer
  int qk_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
  auto operator<=>(const MlaSpec&) const = default;
};

// One linear layer as one GPU runs it: `n` outputs from `k` inputs.
struct LinearShape {
  double n = 0, k = 0;
};

struct ModelSpec {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int kv_heads = 0;  // MLA: 1, the latent
  int head_dim = 0;  // MLA: a query's and key's (qk_nope + qk_rope)
  int ffn = 0;  // a dense layer's MLP intermediate size
  int vocab = 0;
  bool qkv_bias = false;
  bool tied_embeddings = false;
  int max_model_len = 32768;  // native context (config max_position_embeddings): vLLM's default limit
  int mtp_layers = 0;         // multi-token-prediction modules (speculative method mtp drafts with them)
  MoeSpec moe;
  MlaSpec mla;
  SlidingWindowSpec sliding_window;
  bool attention_sinks = false;  // a learned logit per head in every softmax (gpt-oss)
  // How it is served (the checkpoint's weight dtype; the deployment may set all three).
  Dtype weight_dtype = Dtype::bf16;    // linear layers; embeddings, LM head, norms and router stay bf16
  Dtype kv_cache_dtype = Dtype::bf16;  // bf16 or fp8
  bool expert_parallel = false;        // experts dealt out whole over the TP group (vLLM's EP)

  std::int64_t q_width() const { return std::int64_t{heads} * head_dim; }
  // Width of one of K or V per token (MLA: the latent, which stands for both).
  std::int64_t kv_width() const { return mla.on() ? mla.latent_width() : std::int64_t{kv_heads} * head_dim; }

  // Parameters of one layer, by part. Linear ones are stored in weight_dtype; the router, the
  // norms and any bias in bf16. Without `dense`, an MoE model's MoE layer; with it, a dense
  // layer (a dense model's every layer, an MoE model's leading moe.dense_layers).
  std::int64_t attention_linear_params() const;
  // Of those, the ones every TP rank holds whole (MLA's down-projections; 0 for GQA).
  std::int64_t replicated_attention_params() const;
  // The attention block's GEMMs on one GPU of a TP group: those before attention (GQA: the fused
  // QKV; MLA: the down-projections, q_b_proj and kv_b_proj, which decode runs absorbed into the
  // query and output at the same FLOPs) and the output projection after it.
  std::vector<LinearShape> attention_in_gemms(int tp) const;
  LinearShape attention_out_gemm(int tp) const;
  std::int64_t expert_params() const { return 3LL * hidden * moe.expert_ffn; }  // one routed expert
  std::int64_t mlp_linear_params(bool dense = false) const;  // dense MLP, or shared experts (routed ones apart)
  // The intermediate width every token of an MoE layer runs densely: the shared experts' total
  // (ffn in a dense model).
  std::int64_t dense_ffn() const {
    return moe.on() ? std::int64_t{moe.shared_experts} * moe.shared_expert_ffn : std::int64_t{ffn};
  }
  std::int64_t router_params() const { return moe.on() ? std::int64_t{hidden} * moe.experts : 0; }
  std::int64_t layer_params(bool dense = false) const;  // all of them, routed experts included
  // Layers of [first, first + count) that keep a dense MLP (an MoE model's leading ones).
  int dense_layers_in(int first, int count) const;
  // An MoE model's dense layers among `run` of its layers, as a cost model prices an iteration
  // by its layer count: all of them for the whole model, pro rata for a pipeline stage (0 for a
  // dense model, whose every layer is priced alike).
  double dense_layers_priced(int run) const {
    if (!moe.on() || moe.dense_layers == 0) return 0;
    return run >= layers ? moe.dense_layers : static_cast<double>(run) * moe.dense_layers / layers;
  }
  // Parameters a token computes with: attention, the MLP or its top_k experts, router, norms,
  // over every layer, plus the LM head (`kunsim models`' "active").
  std::int64_t active_params() const;
  std::int64_t total_params() const;

  std::int64_t layer_weight_bytes(bool dense = false) const;
  // Embedding plus LM head (once when tied) plus the final norm, all bf16.
  std::int64_t embedding_weight_bytes() const;
  std::int64_t total_weight_bytes() const;
  // Routed experts of one layer that one GPU of a TP group holds: a 1/tp slice of each, or with
  // expert parallelism ceil(experts / tp) whole ones (vLLM gives the remainder to the first ranks).
  std::int64_t expert_bytes_per_gpu(int tp) const;
  // One MoE layer on one GPU: its TP share of everything but what TP leaves whole (the router,
  // MLA's down-projections) and the experts.
  std::int64_t layer_weight_bytes_per_gpu(int tp) const;
  // Layers [first, first + count) on one GPU (what a pipeline stage holds), rounded once.
  std::int64_t layers_weight_bytes_per_gpu(int first, int count, int tp) const;
  // The layers outside [first, first + count) on one GPU: what a stage that keeps those drops.
  std::int64_t other_layers_weight_bytes_per_gpu(int first, int count, int tp) const;
  // The whole model on one GPU of a TP group (a dense model's is total / tp, rounded up).
  std::int64_t weight_bytes_per_gpu(int tp) const;

  // K and V of one token in one layer, whole model, in kv_cache_dtype (MLA: the latent).
  std::int64_t kv_bytes_per_token_per_layer() const {
    return (mla.on() ? 1 : 2) * kv_width() * dtype_bytes(kv_cache_dtype);
  }
  std::int64_t kv_bytes_per_token() const { return kv_bytes_per_token_per_layer() * kv_layers(); }
  // Layers of [first, first + count) with a sliding window, and the layers whose KV grows with
  // the context: all of them, or the full-attention ones where sliding windows are on (the
  // sliding ones hold window_blocks() per request instead).
  int sliding_layers_in(int first, int count) const;
  int kv_layers() const { return layers - sliding_layers_in(0, layers); }
  // Blocks of the full layers' size a running request holds for the sliding layers: vLLM's
  // cdiv(window - 1, block) + 1 per group of kv_layers() layers (0 without sliding windows).
  std::int64_t window_blocks(int block_size) const;
  // The routed experts' storage dtype.
  Dtype expert_dtype() const { return moe.expert_dtype.value_or(weight_dtype); }
  // KV heads each GPU of a TP group stores (replicated when tp exceeds kv_heads; MLA's one latent
  // on every rank).
  int kv_heads_per_gpu(int tp) const { return kv_heads >= tp ? kv_heads / tp : 1; }
  std::int64_t kv_bytes_per_token_per_layer_per_gpu(int tp) const {
    if (mla.on()) return kv_bytes_per_token_per_layer();  // not sharded: 61 x 576 x 2 B for DeepSeek-V3
    return 2 * std::int64_t{kv_heads_per_gpu(tp)} * head_dim * dtype_bytes(kv_cache_dtype);
  }
};

// Reads an inline spec (`model: {...}`) at `path`; `name` labels it in outputs.
ModelSpec model_from_json(const Json& j, const std::string& path, const std::string& name);

// The shipped catalogue (sim/model/catalogue.json, embedded in the binary).
const std::vector<ModelSpec>& model_catalogue();
// Looks a name up; the error at `path` lists the known names.
const ModelSpec& find_model(const std::string& name, const std::string& path);

}  // namespace kunsim
