// ModelShard: the widths one GPU of a TP group computes with, read from the simulator's model
// catalogue (the same JSON, embedded). A TP shard is profiled on one GPU by shrinking heads and
// widths: q and kv heads, the FFN and the vocabulary are divided by tp (kv heads are replicated
// when there are fewer than tp of them, as vLLM does); hidden stays whole.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace kunsim::calibrate {

struct BadInput : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct ModelShard {
  std::string model;
  int tp = 1;
  int layers = 0, hidden = 0, q_heads = 0, kv_heads = 0, ffn = 0, vocab = 0;
  static constexpr int kHeadDim = 128;

  int qkv_width() const { return (q_heads + 2 * kv_heads) * kHeadDim; }
  int attn_width() const { return q_heads * kHeadDim; }
  // Weight elements of one layer: QKV, O, gate_up, down, two norms.
  std::int64_t layer_elems() const {
    const std::int64_t h = hidden;
    return h * qkv_width() + static_cast<std::int64_t>(attn_width()) * h + 2 * h * ffn + h * ffn + 2 * h;
  }
  // KV bytes per token per layer (bf16 K and V).
  std::int64_t kv_bytes_per_token() const { return 2LL * kv_heads * kHeadDim * 2; }

  nlohmann::json spec;  // the whole model's spec, as the catalogue writes it (kept in meta.json)
};

// A catalogue model; throws BadInput naming the model or the TP degree that does not divide it.
ModelShard shard_of(const std::string& model, int tp);
// A model given inline, with the catalogue's keys plus "name" (kunsim-calibrate --model-spec):
// models outside the catalogue are calibrated the same way, and the fit report reads the spec
// back from meta.json.
ModelShard shard_of_spec(const nlohmann::json& spec, const std::string& where, int tp);
std::vector<std::string> catalogue_models();

}  // namespace kunsim::calibrate
