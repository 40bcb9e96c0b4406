// ModelSpec: the shape of a decoder-only transformer (Llama/Qwen family: GQA attention, gated
// SiLU MLP, RMSNorm) and the byte counts derived from it. All sizes are whole-model (TP 1);
// per-GPU figures divide by the TP degree, with KV heads replicated when tp > kv_heads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"

namespace kunsim {

struct ModelSpec {
  std::string name;
  int layers = 0;
  int hidden = 0;
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int ffn = 0;
  int vocab = 0;
  int dtype_bytes = 2;
  bool qkv_bias = false;
  bool tied_embeddings = false;
  int max_model_len = 32768;  // native context (config max_position_embeddings): vLLM's default limit
  int mtp_layers = 0;         // multi-token-prediction modules (speculative method mtp drafts with them)

  std::int64_t q_width() const { return std::int64_t{heads} * head_dim; }
  std::int64_t kv_width() const { return std::int64_t{kv_heads} * head_dim; }
  // Parameters of one transformer layer: QKV (+bias), O, gate/up/down, two RMSNorm vectors.
  std::int64_t layer_params() const;
  std::int64_t layer_weight_bytes() const { return layer_params() * dtype_bytes; }
  // Embedding plus LM head (once when tied) plus the final norm.
  std::int64_t embedding_weight_bytes() const;
  std::int64_t total_weight_bytes() const { return layers * layer_weight_bytes() + embedding_weight_bytes(); }
  // K and V of one token in one layer, whole model.
  std::int64_t kv_bytes_per_token_per_layer() const { return 2 * kv_width() * dtype_bytes; }
  std::int64_t kv_bytes_per_token() const { return kv_bytes_per_token_per_layer() * layers; }
  // KV heads each GPU of a TP group stores (replicated when tp exceeds kv_heads).
  int kv_heads_per_gpu(int tp) const { return kv_heads >= tp ? kv_heads / tp : 1; }
  std::int64_t kv_bytes_per_token_per_layer_per_gpu(int tp) const {
    return 2 * std::int64_t{kv_heads_per_gpu(tp)} * head_dim * dtype_bytes;
  }
};

// Reads an inline spec (`model: {...}`) at `path`; `name` labels it in outputs.
ModelSpec model_from_json(const Json& j, const std::string& path, const std::string& name);

// The shipped catalogue (sim/model/catalogue.json, embedded in the binary).
const std::vector<ModelSpec>& model_catalogue();
// Looks a name up; the error at `path` lists the known names.
const ModelSpec& find_model(const std::string& name, const std::string& path);

}  // namespace kunsim
