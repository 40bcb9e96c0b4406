// SpeculativeSpec: vLLM's speculative decoding (`--speculative-config`), as a scenario's
// `deployment.speculative` sets it. Each decode step a proposer drafts k tokens per request and
// the target verifies them in one forward of k + 1 query tokens per request; the drafts accepted
// in a row, plus the target's own (bonus) token, are emitted.
//
// Acceptance is what a planner knows of their workload: a per-token rate alpha (each draft is
// accepted with probability alpha once the ones before it were), or a per-position vector p_i
// as vLLM's metrics export it (drafts accepted at position i / drafts proposed). A step then
// emits on average
//     E = 1 + sum_i p_i,   which for alpha is 1 + alpha + ... + alpha^k = (1 - alpha^(k+1)) / (1 - alpha).
// kunsim advances every decode by E tokens a step on average, exactly: DecodeCohort keeps a
// lane per emission rate whose token clock is floor(steps x E), so the decode jump survives.
//
// Memory: a speculating decode holds slots for the k drafts it verifies plus, for proposers with
// KV of their own (EAGLE, MTP, a draft model), vLLM's `num_lookahead_tokens` = k more
// (vllm/v1/core/sched/scheduler.py); the draft's weights and its KV per token sit beside the
// target's.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

struct SpeculativeSpec {
  // "" when off; else ngram, eagle, eagle3, mtp or draft_model.
  std::string method;
  int num_tokens = 0;                          // k: drafts per step (vLLM's num_speculative_tokens)
  std::optional<double> acceptance;            // alpha, per token
  std::vector<double> acceptance_by_position;  // p_1..p_k, as vLLM reports them
  double ngram_us_per_seq = 0;                 // ngram: host time per request per step
  int draft_vocab = 0;                         // eagle3: the head's own vocabulary
  std::optional<ModelSpec> draft;              // the proposer's shape (not for ngram)

  // Fixed-point unit of emission rates: 1 token per step.
  static constexpr std::int64_t kOneToken = 1 << 16;

  bool on() const { return !method.empty() && num_tokens > 0; }
  // Mean tokens a step emits per request, at the deployment's acceptance, or at a per-token
  // `alpha` given for the request's workload (which then replaces any per-position vector).
  double tokens_per_step(std::optional<double> alpha = std::nullopt) const;
  // The same in units of kOneToken (what DecodeCohort's lanes run at); kOneToken when off.
  std::int64_t emit_rate(std::optional<double> alpha = std::nullopt) const;
  // KV slots a running request holds beyond its context: the drafts it verifies, plus vLLM's
  // lookahead for proposers with KV of their own. 0 when off.
  int lookahead() const;
  // The proposer's weights and its KV per token, per GPU of an instance of `tp` GPUs.
  std::int64_t draft_weight_bytes_per_gpu(const ModelSpec& target, int tp) const;
  std::int64_t draft_kv_bytes_per_token_per_gpu(int tp) const;
};

// Reads `deployment.speculative` (null: off) for `target`, checking it against the model.
SpeculativeSpec speculative_from_json(const Json* j, const std::string& path, const ModelSpec& target);

}  // namespace kunsim
