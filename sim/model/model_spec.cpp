#include "sim/model/model_spec.hpp"

#include <algorithm>
#include <string_view>

namespace kunsim {
namespace embedded {
extern const std::string_view model_catalogue_json;
}

namespace {
// Bytes of one layer's routed experts and router, which TP does not split as it splits the rest.
std::int64_t unsplit_bytes(const ModelSpec& m) {
  return m.moe.experts * m.expert_params() * dtype_bytes(m.weight_dtype) + m.router_params() * kActivationBytes;
}
}  // namespace

std::int64_t ModelSpec::mlp_linear_params(bool dense) const {
  if (!moe.on() || dense) return 3LL * hidden * ffn;
  return 3LL * hidden * moe.shared_expert_ffn * moe.shared_experts;
}

std::int64_t ModelSpec::layer_params(bool dense) const {
  const bool moe_layer = moe.on() && !dense;
  std::int64_t p = attention_linear_params() + mlp_linear_params(dense);
  if (moe_layer) p += moe.experts * expert_params() + router_params();
  if (qkv_bias) p += q_width() + 2 * kv_width();
  return p + 2LL * hidden;  // input and post-attention RMSNorm
}

int ModelSpec::dense_layers_in(int first, int count) const {
  if (!moe.on()) return count;
  return std::max(0, std::min(first + count, moe.dense_layers) - first);
}

std::int64_t ModelSpec::active_params() const {
  const std::int64_t routed = moe.top_k * expert_params();
  const std::int64_t moe_layer = layer_params() - moe.experts * expert_params() + routed;
  const int dense = dense_layers_in(0, layers);
  return dense * layer_params(true) + (layers - dense) * moe_layer + std::int64_t{vocab} * hidden +
         hidden;  // LM head and final norm
}

std::int64_t ModelSpec::total_params() const {
  const std::int64_t table = std::int64_t{vocab} * hidden;
  const int dense = dense_layers_in(0, layers);
  return dense * layer_params(true) + (layers - dense) * layer_params() + (tied_embeddings ? table : 2 * table) +
         hidden;
}

std::int64_t ModelSpec::layer_weight_bytes(bool dense) const {
  const std::int64_t linear =
      attention_linear_params() + mlp_linear_params(dense) + (moe.on() && !dense ? moe.experts * expert_params() : 0);
  return linear * dtype_bytes(weight_dtype) + (layer_params(dense) - linear) * kActivationBytes;
}

std::int64_t ModelSpec::total_weight_bytes() const {
  const int dense = dense_layers_in(0, layers);
  return dense * layer_weight_bytes(true) + (layers - dense) * layer_weight_bytes() + embedding_weight_bytes();
}

std::int64_t ModelSpec::embedding_weight_bytes() const {
  const std::int64_t table = std::int64_t{vocab} * hidden;
  return ((tied_embeddings ? table : 2 * table) + hidden) * kActivationBytes;
}

std::int64_t ModelSpec::expert_bytes_per_gpu(int tp) const {
  const std::int64_t one = expert_params() * dtype_bytes(weight_dtype);
  if (expert_parallel) return (moe.experts + tp - 1) / tp * one;
  return (moe.experts * one + tp - 1) / tp;
}

std::int64_t ModelSpec::layer_weight_bytes_per_gpu(int tp) const {
  if (!moe.on()) return layer_weight_bytes() / tp;
  return (layer_weight_bytes() - unsplit_bytes(*this)) / tp + router_params() * kActivationBytes +
         expert_bytes_per_gpu(tp);
}

std::int64_t ModelSpec::weight_bytes_per_gpu(int tp) const {
  if (!moe.on()) return (total_weight_bytes() + tp - 1) / tp;
  const std::int64_t moe_layers = layers - dense_layers_in(0, layers);
  const std::int64_t split = total_weight_bytes() - moe_layers * unsplit_bytes(*this);
  return (split + tp - 1) / tp + moe_layers * (router_params() * kActivationBytes + expert_bytes_per_gpu(tp));
}

std::int64_t ModelSpec::layers_weight_bytes_per_gpu(int first, int count, int tp) const {
  if (!moe.on()) return std::int64_t{count} * layer_weight_bytes() / tp;
  const int dense = dense_layers_in(first, count);
  return dense * layer_weight_bytes(true) / tp + (count - dense) * layer_weight_bytes_per_gpu(tp);
}

std::int64_t ModelSpec::other_layers_weight_bytes_per_gpu(int first, int count, int tp) const {
  if (!moe.on()) return std::int64_t{layers - count} * layer_weight_bytes() / tp;
  return layers_weight_bytes_per_gpu(0, layers, tp) - layers_weight_bytes_per_gpu(first, count, tp);
}

namespace {

const std::vector<std::string> kWeightDtypes = {"bf16", "fp8", "fp8_block"};

MoeSpec moe_from_json(const Json& j, const std::string& path) {
  JsonFields f(j, path);
  MoeSpec m;
  m.experts = static_cast<int>(f.integer("experts", 2, 1024, Help{"MoE: routed experts per layer"}));
  m.top_k = static_cast<int>(f.integer("top_k", 1, 64, Help{"MoE: experts each token runs"}));
  m.expert_ffn = static_cast<int>(f.integer("expert_ffn", 16, 1 << 20, Help{"MoE: one expert's intermediate size"}));
  m.shared_experts =
      static_cast<int>(f.integer("shared_experts", 0, 0, 64, Help{"MoE: experts every token runs besides the routed"}));
  m.shared_expert_ffn = static_cast<int>(f.integer("shared_expert_ffn", m.shared_experts ? m.expert_ffn : 0, 0, 1 << 20,
                                                   Help{"MoE: a shared expert's intermediate size", "expert_ffn"}));
  m.dense_layers = static_cast<int>(f.integer(
      "dense_layers", 0, 0, 1024, Help{"MoE: the first layers keep a dense MLP of model.ffn (DeepSeek-V3: 3)"}));
  f.finish();
  if (m.top_k > m.experts)
    throw InputError(join_path(path, "top_k") + ": " + std::to_string(m.top_k) + " exceeds experts (" +
                     std::to_string(m.experts) + ")");
  return m;
}

}  // namespace

ModelSpec model_from_json(const Json& j, const std::string& path, const std::string& name) {
  JsonFields f(j, path);
  ModelSpec m;
  m.name = f.string("name", name, Help{"the inline model's name (outputs and messages)"});
  m.layers = static_cast<int>(f.integer("layers", 1, 1024, Help{"transformer layers"}));
  m.hidden = static_cast<int>(f.integer("hidden", 64, 1 << 17, Help{"hidden size"}));
  m.heads = static_cast<int>(f.integer("heads", 1, 1024, Help{"attention (query) heads"}));
  m.kv_heads =
      static_cast<int>(f.integer("kv_heads", m.heads, 1, 1024, Help{"KV heads (fewer than heads: GQA)", "heads"}));
  m.head_dim = static_cast<int>(
      f.integer("head_dim", m.hidden / m.heads, 8, 1024, Help{"per-head dimension", "hidden / heads"}));
  m.ffn = static_cast<int>(f.integer("ffn", 64, 1 << 20, Help{"a dense MLP's intermediate size"}));
  m.vocab = static_cast<int>(f.integer("vocab", 32000, 1, 1 << 22, Help{"vocabulary size"}));
  // Bytes per element, from before dtypes had names: 2 still means bf16. Other widths name the
  // keys that replaced it, since one width cannot say which of weights or KV is fp8, nor how
  // its GEMMs run.
  const auto width = f.integer("dtype_bytes", 2, 1, 4,
                               Help{"legacy: 2 (bf16) only; fp8 is model.weight_dtype and deployment.kv_cache_dtype"});
  if (width != 2)
    throw InputError(f.path_of("dtype_bytes") + ": " + std::to_string(width) +
                     " is not priced: name the formats instead, model.weight_dtype (bf16, fp8, fp8_block) for the "
                     "weights and deployment.kv_cache_dtype (bf16, fp8) for the KV cache");
  m.weight_dtype = dtype_from_name(
      f.choice("weight_dtype", "bf16", kWeightDtypes,
               Help{"the checkpoint's linear layers: bf16, fp8 (per-tensor scale) or fp8_block (128x128 scales)"}));
  m.qkv_bias = f.boolean("qkv_bias", false, Help{"QKV projections carry a bias (Qwen)"});
  m.tied_embeddings = f.boolean("tied_embeddings", false, Help{"the LM head shares the embedding weights"});
  m.max_model_len =
      static_cast<int>(f.integer("max_model_len", 32768, 2, 1 << 24, Help{"the model's native context in tokens"}));
  m.mtp_layers = static_cast<int>(f.integer(
      "mtp_layers", 0, 0, 16, Help{"multi-token-prediction modules, each a decoder layer (speculative method mtp)"}));
  if (const Json* mj = f.child("moe", Help{"mixture of experts in every layer: {experts, top_k, expert_ffn, "
                                           "shared_experts, shared_expert_ffn}"}))
    m.moe = moe_from_json(*mj, f.path_of("moe"));
  f.finish();
  if (m.moe.on() && m.moe.dense_layers >= m.layers)
    throw InputError(join_path(f.path_of("moe"), "dense_layers") + ": " + std::to_string(m.moe.dense_layers) +
                     " leaves no MoE layer of " + std::to_string(m.layers));
  if (m.heads % m.kv_heads != 0)
    throw InputError(join_path(path, "kv_heads") + ": must divide heads (" + std::to_string(m.heads) + ")");
  return m;
}

const std::vector<ModelSpec>& model_catalogue() {
  static const std::vector<ModelSpec> models = [] {
    const KeyCatalogue::Pause not_scenario_keys;  // the catalogue file is not a scenario
    const Json j = parse_json_text(std::string(embedded::model_catalogue_json), "sim/model/catalogue.json");
    std::vector<ModelSpec> out;
    for (auto it = j.begin(); it != j.end(); ++it) out.push_back(model_from_json(it.value(), it.key(), it.key()));
    return out;  // nlohmann objects iterate in key order: the list is sorted by name
  }();
  return models;
}

const ModelSpec& find_model(const std::string& name, const std::string& path) {
  std::string known;
  for (const auto& m : model_catalogue()) {
    if (m.name == name) return m;
    known += (known.empty() ? "" : ", ") + m.name;
  }
  throw InputError(path + ": unknown model \"" + name + "\" (known: " + known + ")");
}

}  // namespace kunsim
