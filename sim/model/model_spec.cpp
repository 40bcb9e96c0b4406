#include "sim/model/model_spec.hpp"

#include <string_view>

namespace kunsim {
namespace embedded {
extern const std::string_view model_catalogue_json;
}

std::int64_t ModelSpec::layer_params() const {
  const std::int64_t h = hidden;
  std::int64_t p = h * (q_width() + 2 * kv_width());  // QKV
  if (qkv_bias) p += q_width() + 2 * kv_width();
  p += q_width() * h;        // O
  p += 3 * h * ffn;          // gate, up, down
  p += 2 * h;                // input and post-attention RMSNorm
  return p;
}

std::int64_t ModelSpec::embedding_weight_bytes() const {
  const std::int64_t table = std::int64_t{vocab} * hidden;
  return (tied_embeddings ? table : 2 * table) * dtype_bytes + std::int64_t{hidden} * dtype_bytes;
}

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
  m.ffn = static_cast<int>(f.integer("ffn", 64, 1 << 20, Help{"MLP intermediate size"}));
  m.vocab = static_cast<int>(f.integer("vocab", 32000, 1, 1 << 22, Help{"vocabulary size"}));
  m.dtype_bytes = static_cast<int>(
      f.integer("dtype_bytes", 2, 1, 4, Help{"bytes per weight and KV element: 2 (bf16/fp16), the only one priced"}));
  // Other widths would scale memory and bytes moved but leave every GEMM at bf16 speed, and the
  // measured and roofline models would disagree: refused until kunsim prices named dtypes.
  if (m.dtype_bytes != 2)
    throw InputError(f.path_of("dtype_bytes") + ": " + std::to_string(m.dtype_bytes) +
                     " is not priced: kunsim models 16-bit (bf16/fp16) weights and KV only; fp8 would keep GEMMs at "
                     "bf16 speed while halving memory");
  m.qkv_bias = f.boolean("qkv_bias", false, Help{"QKV projections carry a bias (Qwen)"});
  m.tied_embeddings = f.boolean("tied_embeddings", false, Help{"the LM head shares the embedding weights"});
  m.max_model_len =
      static_cast<int>(f.integer("max_model_len", 32768, 2, 1 << 24, Help{"the model's native context in tokens"}));
  m.mtp_layers = static_cast<int>(f.integer(
      "mtp_layers", 0, 0, 16, Help{"multi-token-prediction modules, each a decoder layer (speculative method mtp)"}));
  f.finish();
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
