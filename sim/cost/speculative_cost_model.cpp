#include "sim/cost/speculative_cost_model.hpp"

#include <cstdio>
#include <stdexcept>

namespace kunsim {

SpeculativeCostModel::SpeculativeCostModel(std::unique_ptr<CostModel> target, std::unique_ptr<CostModel> draft,
                                           SpeculativeSpec spec, std::string draft_kind)
    : target_(std::move(target)), draft_(std::move(draft)), spec_(std::move(spec)), draft_kind_(std::move(draft_kind)) {
  if (!spec_.on()) throw std::logic_error("SpeculativeCostModel: speculation is off");
  if (spec_.method != "ngram" && (!draft_ || !spec_.draft))
    throw std::logic_error("SpeculativeCostModel: " + spec_.method + " needs a draft cost model");
}

double SpeculativeCostModel::proposer_seconds(int decodes, std::int64_t context_sum) const {
  if (decodes <= 0) return 0;
  if (spec_.method == "ngram") return decodes * spec_.ngram_us_per_seq * 1e-6;
  // k sequential passes, the i-th attending to i more tokens a request than the first: priced
  // once at the middle one's context, k times.
  BatchShape pass;
  pass.num_decodes = decodes;
  pass.decode_context_sum = context_sum + static_cast<std::int64_t>(decodes) * (spec_.num_tokens - 1) / 2;
  pass.layers = spec_.draft->layers;
  pass.sampled = decodes;
  const IterationCost c = draft_->iteration(pass);
  return spec_.num_tokens * (c.sum() - c.cpu);
}

IterationCost SpeculativeCostModel::iteration(const BatchShape& s) const {
  IterationCost c = target_->iteration(s);
  if (s.decode_queries > 1) c.draft = proposer_seconds(s.num_decodes, s.decode_context_sum);
  return c;
}

std::string SpeculativeCostModel::describe() const {
  return target_->describe() + "; " + speculation(spec_, draft_kind_);
}

std::string SpeculativeCostModel::speculation(const SpeculativeSpec& spec, const std::string& draft_kind) {
  std::string d = "speculative " + spec.method + " k=" + std::to_string(spec.num_tokens) + ", proposer ";
  if (!spec.draft) {
    char us[32];
    std::snprintf(us, sizeof us, "%g", spec.ngram_us_per_seq);
    return d + "on the host at " + us + " us a request";
  }
  return d + spec.draft->name + " priced by the " + draft_kind + " cost model";
}

}  // namespace kunsim
