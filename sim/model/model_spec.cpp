#include "sim/model/model_spec.hpp"

#include <algorithm>
#include <string_view>

namespace kunsim {
namespace embedded {
extern const std::string_view model_catalogue_json;
}

namespace {
// Bytes of one layer that TP does not split as it splits the rest: MLA's down-projections, an MoE
// layer's routed experts and router.
std::int64_t unsplit_bytes(const ModelSpec& m, bool dense) {
  std::int64_t b = m.replicated_attention_params() * dtype_bytes(m.weight_dtype);
  if (m.moe.on() && !dense)
    b += weight_bytes(m.moe.experts * m.expert_params(), m.expert_dtype()) + m.router_params() * kActivationBytes;
  return b;
}

// What one GPU holds of those: the down-projections and router whole, its share of the experts.
std::int64_t kept_whole_bytes(const ModelSpec& m, int tp, bool dense) {
  std::int64_t b = m.replicated_attention_params() * dtype_bytes(m.weight_dtype);
  if (m.moe.on() && !dense) b += m.router_params() * kActivationBytes + m.expert_bytes_per_gpu(tp);
  return b;
}

// Every layer splits evenly by TP (a dense GQA model): per-GPU bytes are the whole's / tp.
bool splits_evenly(const ModelSpec& m) { return !m.moe.on() && !m.mla.on(); }
}  // namespace

int ModelSpec::sliding_layers_in(int first, int count) const {
  if (!sliding_window.on()) return 0;
  // Layers before `end` that are full: one in every full_every.
  const auto full_before = [&](int end) { return end / sliding_window.full_every; };
  return count - (full_before(first + count) - full_before(first));
}

std::int64_t ModelSpec::window_blocks(int block_size) const {
  const int sliding = sliding_layers_in(0, layers);
  if (sliding == 0) return 0;
  const std::int64_t per_group = (sliding_window.window - 1 + block_size - 1) / block_size + 1;
  const int groups = (sliding + kv_layers() - 1) / kv_layers();  // vLLM's groups of kv_layers() layers
  return per_group * groups;
}

std::int64_t ModelSpec::attention_linear_params() const {
  if (!mla.on()) return hidden * (q_width() + 2 * kv_width()) + q_width() * hidden;
  const std::int64_t h = hidden, q = q_width();
  const std::int64_t q_proj = mla.q_lora_rank > 0 ? h * mla.q_lora_rank + std::int64_t{mla.q_lora_rank} * q : h * q;
  const std::int64_t kv_b = std::int64_t{mla.kv_lora_rank} * heads * (mla.qk_nope_head_dim + mla.v_head_dim);
  return q_proj + h * mla.latent_width() + kv_b + std::int64_t{heads} * mla.v_head_dim * h;
}

std::int64_t ModelSpec::replicated_attention_params() const {
  if (!mla.on()) return 0;
  return std::int64_t{hidden} * (mla.q_lora_rank + mla.latent_width());  // fused_qkv_a_proj (kv_a alone without q_lora)
}

std::vector<LinearShape> ModelSpec::attention_in_gemms(int tp) const {
  const double h = hidden, heads_here = static_cast<double>(heads) / tp;
  if (!mla.on()) return {{static_cast<double>(q_width()) / tp + 2.0 * kv_heads_per_gpu(tp) * head_dim, h}};
  const double q = heads_here * mla.qk_head_dim();
  std::vector<LinearShape> g;
  if (mla.q_lora_rank > 0) {
    g.push_back({static_cast<double>(mla.q_lora_rank) + mla.latent_width(), h});
    g.push_back({q, static_cast<double>(mla.q_lora_rank)});
  } else {
    g.push_back({static_cast<double>(mla.latent_width()), h});
    g.push_back({q, h});
  }
  g.push_back({heads_here * (mla.qk_nope_head_dim + mla.v_head_dim), static_cast<double>(mla.kv_lora_rank)});
  return g;
}

LinearShape ModelSpec::attention_out_gemm(int tp) const {
  const double width = mla.on() ? static_cast<double>(heads) * mla.v_head_dim : static_cast<double>(q_width());
  return {static_cast<double>(hidden), width / tp};
}

std::int64_t ModelSpec::mlp_linear_params(bool dense) const {
  if (!moe.on() || dense) return 3LL * hidden * ffn;
  return 3LL * hidden * moe.shared_expert_ffn * moe.shared_experts;
}

std::int64_t ModelSpec::layer_params(bool dense) const {
  const bool moe_layer = moe.on() && !dense;
  std::int64_t p = attention_linear_params() + mlp_linear_params(dense);
  if (moe_layer) p += moe.experts * expert_params() + router_params();
  if (qkv_bias) p += q_width() + 2 * kv_width();
  if (mla.on()) p += mla.q_lora_rank + mla.kv_lora_rank;  // the latents' RMSNorms
  if (attention_sinks) p += heads;
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
  const std::int64_t linear = attention_linear_params() + mlp_linear_params(dense);
  const std::int64_t experts = moe.on() && !dense ? moe.experts * expert_params() : 0;
  return linear * dtype_bytes(weight_dtype) + weight_bytes(experts, expert_dtype()) +
         (layer_params(dense) - linear - experts) * kActivationBytes;
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
  const std::int64_t one = weight_bytes(expert_params(), expert_dtype());
  if (expert_parallel) return (moe.experts + tp - 1) / tp * one;
  return (weight_bytes(moe.experts * expert_params(), expert_dtype()) + tp - 1) / tp;
}

std::int64_t ModelSpec::layer_weight_bytes_per_gpu(int tp) const {
  if (splits_evenly(*this)) return layer_weight_bytes() / tp;
  return (layer_weight_bytes() - unsplit_bytes(*this, false)) / tp + kept_whole_bytes(*this, tp, false);
}

std::int64_t ModelSpec::weight_bytes_per_gpu(int tp) const {
  if (splits_evenly(*this)) return (total_weight_bytes() + tp - 1) / tp;
  const std::int64_t dense = dense_layers_in(0, layers), moe_layers = layers - dense;
  const std::int64_t split =
      total_weight_bytes() - moe_layers * unsplit_bytes(*this, false) - dense * unsplit_bytes(*this, true);
  return (split + tp - 1) / tp + moe_layers * kept_whole_bytes(*this, tp, false) +
         dense * kept_whole_bytes(*this, tp, true);
}

std::int64_t ModelSpec::layers_weight_bytes_per_gpu(int first, int count, int tp) const {
  if (splits_evenly(*this)) return std::int64_t{count} * layer_weight_bytes() / tp;
  const std::int64_t dense = dense_layers_in(first, count);
  return dense * (layer_weight_bytes(true) - unsplit_bytes(*this, true)) / tp +
         dense * kept_whole_bytes(*this, tp, true) + (count - dense) * layer_weight_bytes_per_gpu(tp);
}

std::int64_t ModelSpec::other_layers_weight_bytes_per_gpu(int first, int count, int tp) const {
  if (splits_evenly(*this)) return std::int64_t{layers - count} * layer_weight_bytes() / tp;
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
  const std::string experts_in =
      f.choice("expert_dtype", "weights", {"weights", "bf16", "fp8", "fp8_block", "mxfp4"},
               Help{"MoE: the routed experts' storage where the checkpoint quantises them apart (gpt-oss: mxfp4); "
                    "weights: the model's weight_dtype"});
  if (experts_in != "weights") m.expert_dtype = dtype_from_name(experts_in);
  f.finish();
  if (m.top_k > m.experts)
    throw InputError(join_path(path, "top_k") + ": " + std::to_string(m.top_k) + " exceeds experts (" +
                     std::to_string(m.experts) + ")");
  return m;
}

MlaSpec mla_from_json(const Json& j, const std::string& path) {
  JsonFields f(j, path);
  MlaSpec m;
  m.q_lora_rank = static_cast<int>(
      f.integer("q_lora_rank", 0, 0, 1 << 16, Help{"MLA: the queries' low-rank width (0: projected directly)"}));
  m.kv_lora_rank = static_cast<int>(f.integer("kv_lora_rank", 16, 1 << 16, Help{"MLA: the cached latent's width"}));
  m.qk_nope_head_dim =
      static_cast<int>(f.integer("qk_nope_head_dim", 8, 1024, Help{"MLA: a query/key head's part without rope"}));
  m.qk_rope_head_dim = static_cast<int>(
      f.integer("qk_rope_head_dim", 0, 1024, Help{"MLA: the rope part, one key shared by all heads (cached)"}));
  m.v_head_dim = static_cast<int>(f.integer("v_head_dim", 8, 1024, Help{"MLA: a value head's width"}));
  f.finish();
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
  // MLA defines its own head widths and one latent for a KV head: the GQA keys would contradict it.
  const bool latent = j.is_object() && j.contains("mla");
  for (const char* key : {"kv_heads", "head_dim"})
    if (latent && j.contains(key))
      throw InputError(f.path_of(key) +
                       ": not used with model.mla (its cache is one latent of kv_lora_rank + "
                       "qk_rope_head_dim; heads are qk_nope_head_dim + qk_rope_head_dim wide)");
  if (!latent) {
    m.kv_heads =
        static_cast<int>(f.integer("kv_heads", m.heads, 1, 1024, Help{"KV heads (fewer than heads: GQA)", "heads"}));
    m.head_dim = static_cast<int>(
        f.integer("head_dim", m.hidden / m.heads, 8, 1024, Help{"per-head dimension", "hidden / heads"}));
  }
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
  if (const Json* wj = f.child("sliding_window", Help{"sliding-window attention: {tokens, full_every}"})) {
    JsonFields w(*wj, f.path_of("sliding_window"));
    m.sliding_window.window =
        static_cast<int>(w.integer("tokens", 1, 1 << 24, Help{"sliding window: tokens a sliding layer attends to"}));
    m.sliding_window.full_every = static_cast<int>(w.integer(
        "full_every", 2, 2, 1024, Help{"sliding window: every this many layers the last attends to all (gpt-oss: 2)"}));
    w.finish();
  }
  m.attention_sinks =
      f.boolean("attention_sinks", false, Help{"a learned sink logit per head in each softmax (gpt-oss)"});
  if (const Json* lj = f.child("mla", Help{"multi-head latent attention: {q_lora_rank, kv_lora_rank, qk_nope_head_dim, "
                                           "qk_rope_head_dim, v_head_dim}"})) {
    m.mla = mla_from_json(*lj, f.path_of("mla"));
    m.kv_heads = 1;
    m.head_dim = m.mla.qk_head_dim();
  }
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
