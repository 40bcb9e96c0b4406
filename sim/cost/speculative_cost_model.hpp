// SpeculativeCostModel: the cost of a deployment that drafts speculatively, over the cost model
// of its target. A step whose decodes verify drafts (BatchShape::decode_queries = k + 1) is the
// target's forward of those k + 1 tokens per decode (GEMMs at (k + 1) x batch tokens, attention
// as a chunk after each context, logits at every verified position: the target model prices
// all of that) plus the proposer, in IterationCost::draft:
// - ngram: host time per request (SpeculativeSpec::ngram_us_per_seq);
// - eagle, eagle3, mtp, draft_model: k passes of the draft at the step's batch, one token per
//   request each, priced by the same kind of cost model built for the draft's shape (its
//   layers and its LM head: the target's vocabulary for EAGLE-1 and MTP, about 1 GB read a pass
//   at 128k x 4096 in bf16; the head's own, smaller one for EAGLE-3; a draft model's own).
//   A pass is its kernels alone: the step's host time is charged once, by the target.
// Not priced: the draft's first pass over the accepted tokens beyond one per request, and
// EAGLE's fc over the target's hidden states (one small GEMM a pass).
#pragma once
#include <memory>
#include <string>

#include "sim/cost/cost_model.hpp"
#include "sim/model/speculative_spec.hpp"

namespace kunsim {

class SpeculativeCostModel final : public CostModel {
 public:
  // `draft` prices the proposer's passes (none for ngram); it is a cost model of kind
  // `draft_kind` (a registered name: "profile", "roofline").
  SpeculativeCostModel(std::unique_ptr<CostModel> target, std::unique_ptr<CostModel> draft, SpeculativeSpec spec,
                       std::string draft_kind);
  IterationCost iteration(const BatchShape& shape) const override;
  std::int64_t activation_bytes(std::int64_t tokens) const override { return target_->activation_bytes(tokens); }
  std::string describe() const override;
  // What speculation adds to a target's description: method, k and what prices the proposer
  // (a cost model kind). Static, so a scenario can say it without building the models.
  static std::string speculation(const SpeculativeSpec& spec, const std::string& draft_kind);

  // Seconds the proposer takes to draft for `decodes` requests attending to `context_sum`
  // tokens in all.
  double proposer_seconds(int decodes, std::int64_t context_sum) const;

 private:
  std::unique_ptr<CostModel> target_;
  std::unique_ptr<CostModel> draft_;
  SpeculativeSpec spec_;
  std::string draft_kind_;
};

}  // namespace kunsim
