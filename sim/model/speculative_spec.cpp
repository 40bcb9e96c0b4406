#include "sim/model/speculative_spec.hpp"

#include <cmath>

namespace kunsim {

double SpeculativeSpec::tokens_per_step(std::optional<double> alpha) const {
  if (!on()) return 1.0;
  double e = 1.0;  // the bonus token: the target's own, emitted whatever the drafts
  if (!alpha && !acceptance_by_position.empty()) {
    for (double p : acceptance_by_position) e += p;
    return e;
  }
  const double a = alpha ? *alpha : acceptance.value_or(0.0);
  double reach = 1.0;  // the chance that the draft at position i is accepted: alpha^i
  for (int i = 0; i < num_tokens; ++i) {
    reach *= a;
    e += reach;
  }
  return e;
}

std::int64_t SpeculativeSpec::emit_rate(std::optional<double> alpha) const {
  return std::llround(tokens_per_step(alpha) * static_cast<double>(kOneToken));
}

int SpeculativeSpec::lookahead() const {
  if (!on()) return 0;
  // ngram keeps no KV of its own, so vLLM reserves no lookahead slots for it.
  return num_tokens + (method == "ngram" ? 0 : num_tokens);
}

std::int64_t SpeculativeSpec::draft_weight_bytes_per_gpu(const ModelSpec& target, int tp) const {
  if (!on() || !draft) return 0;
  // The proposers' own heads are bf16 checkpoints, whatever the target is served in.
  const std::int64_t h = target.hidden, d = kActivationBytes;
  std::int64_t bytes = 0;
  if (method == "eagle") {
    // One decoder layer and the fc that fuses the token's embedding with the target's hidden
    // state (2h -> h); embeddings and LM head are the target's.
    bytes = (draft->layer_params() + 2 * h * h) * d;
  } else if (method == "eagle3") {
    // One layer whose QKV reads [embedding, hidden] (2h wide), the fc fusing three of the
    // target's hidden states (3h -> h), and its own LM head over the draft vocabulary.
    bytes = (draft->layer_params() + h * (draft->q_width() + 2 * draft->kv_width()) + 3 * h * h +
             std::int64_t{draft_vocab} * h) *
            d;
  } else if (method == "mtp") {
    // Each module: a decoder layer, its projection of [embedding, hidden] (2h -> h) and two
    // norms; embeddings and LM head are shared with the target. The checkpoint stores them as it
    // stores the target's layers (DeepSeek-V3's in fp8_block).
    bytes = draft->layers * (draft->layer_weight_bytes() + 2 * h * h * dtype_bytes(draft->weight_dtype) + 2 * h * d);
  } else {
    bytes = draft->total_weight_bytes();
  }
  return (bytes + tp - 1) / tp;
}

std::int64_t SpeculativeSpec::draft_kv_bytes_per_token_per_gpu(int tp) const {
  if (!on() || !draft) return 0;
  return draft->kv_bytes_per_token_per_layer_per_gpu(tp) * draft->layers;
}

SpeculativeSpec speculative_from_json(const Json* j, const std::string& path, const ModelSpec& target) {
  SpeculativeSpec s;
  if (!j) return s;
  JsonFields f(*j, path);
  s.method = f.choice("method", "eagle", {"ngram", "eagle", "eagle3", "mtp", "draft_model"},
                      Help{"the proposer: ngram (prompt lookup), eagle, eagle3, mtp (the model's own MTP layers) or "
                           "draft_model"});
  s.num_tokens = static_cast<int>(
      f.integer("num_tokens", 0, 0, 16, Help{"k: tokens drafted per step (vLLM's num_speculative_tokens); 0: off"}));
  if (f.has("acceptance"))
    s.acceptance = f.number("acceptance", 0.0, 1.0,
                            Help{"alpha: each draft is accepted with this chance once those before it were",
                                 "required unless acceptance_by_position"});
  if (const Json* v = f.child("acceptance_by_position",
                              Help{"per-position acceptance p_1..p_k as vLLM's metrics report it (accepted at "
                                   "position i / drafts); instead of acceptance",
                                   "none: acceptance"},
                              "array of numbers")) {
    const std::string at = f.path_of("acceptance_by_position");
    if (!v->is_array()) throw InputError(at + ": expected an array of numbers in [0, 1]");
    for (std::size_t i = 0; i < v->size(); ++i) {
      const double p = json_number((*v)[i], at + "[" + std::to_string(i) + "]", 0.0, 1.0);
      if (i > 0 && p > s.acceptance_by_position.back())
        throw InputError(at + "[" + std::to_string(i) + "]: " + std::to_string(p) +
                         " exceeds the position before it: a draft is accepted only after those before it");
      s.acceptance_by_position.push_back(p);
    }
  }
  s.ngram_us_per_seq = f.number("ngram_us_per_seq", 5.0, 0, 1e5,
                                Help{"ngram: host time per request per step to find the draft in its context (an "
                                     "estimate: kunsim has no measurement of vLLM's n-gram proposer)"});
  s.draft_vocab = static_cast<int>(f.integer(
      "draft_vocab", 32000, 1, 1 << 22, Help{"eagle3: the head's vocabulary (32000 in the public EAGLE-3 heads)"}));
  const std::string draft_name =
      f.string("draft_model", "", Help{"draft_model: the draft, a catalogued model sharing the target's vocabulary"});
  f.finish();
  if (!s.on()) return SpeculativeSpec{};
  if (!s.acceptance && s.acceptance_by_position.empty())
    throw InputError(path +
                     ".acceptance: required (or acceptance_by_position): the chance a draft is accepted is "
                     "the workload's, and kunsim does not guess it");
  if (s.acceptance && !s.acceptance_by_position.empty())
    throw InputError(path + ": give acceptance or acceptance_by_position, not both");
  if (!s.acceptance_by_position.empty() && static_cast<int>(s.acceptance_by_position.size()) != s.num_tokens)
    throw InputError(path + ".acceptance_by_position: " + std::to_string(s.acceptance_by_position.size()) +
                     " positions for num_tokens " + std::to_string(s.num_tokens));
  if (!draft_name.empty() && s.method != "draft_model")
    throw InputError(path + ".draft_model: only with method draft_model");
  if (s.method == "eagle" || s.method == "eagle3" || s.method == "mtp") {
    ModelSpec head = target;
    head.name = target.name + " " + s.method + " head";
    head.layers = 1;
    if (s.method != "mtp") {
      // EAGLE heads are dense bf16 checkpoints whatever the target is (an MoE target's head too);
      // MTP modules are the target's own decoder layers, MoE and dtype included.
      head.moe = MoeSpec{};
      head.weight_dtype = Dtype::bf16;
      head.expert_parallel = false;
    }
    if (s.method == "eagle3") head.vocab = s.draft_vocab;
    if (s.method == "mtp") {
      if (target.mtp_layers == 0)
        throw InputError(path + ".method: mtp drafts with the model's multi-token-prediction layers, and " +
                         target.name + " has none (model.mtp_layers)");
      head.layers = target.mtp_layers;
      head.moe.dense_layers = 0;  // an MTP module is a layer of the model's own MoE kind (DeepSeek-V3's)
    }
    s.draft = head;
  } else if (s.method == "draft_model") {
    if (draft_name.empty()) throw InputError(path + ".draft_model: required with method draft_model");
    const ModelSpec& d = find_model(draft_name, path + ".draft_model");
    if (d.vocab != target.vocab)
      throw InputError(path + ".draft_model: " + d.name + "'s vocabulary (" + std::to_string(d.vocab) + ") is not " +
                       target.name + "'s (" + std::to_string(target.vocab) +
                       "): a draft must share the target's tokenizer");
    s.draft = d;
    s.draft->kv_cache_dtype = target.kv_cache_dtype;  // its KV shares the target's blocks
  }
  return s;
}

}  // namespace kunsim
