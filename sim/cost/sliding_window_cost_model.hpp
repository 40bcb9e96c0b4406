// SlidingWindowCostModel: a model whose sliding layers attend to the last `window` tokens only
// (gpt-oss, Gemma 3), over the cost model of its full-attention form. An iteration is the inner
// model's, every op at the stage's layer count, with the attention of its sliding layers priced
// again at the window:
// - decodes at min(context, window) each: the kernel reads no further back;
// - prefill chunks as chunks of equal attention work: a query at position p attends to
//   min(window, p) keys, so a chunk of n tokens after c does sum of min(window, p) over its
//   positions, and stands as the prompt whose causal work is that (prefill_equivalent's measure).
// A stage's sliding layers are taken pro rata, as an MoE model's dense layers are. The measured
// tables also time windowed kernels (window_size 128); kunsim reads the full-attention ones by
// equal work instead. Attention sinks (a logit per head in the softmax) are not in the tables
// and are priced as plain attention: one more term per row of scores.
#pragma once
#include <memory>
#include <string>

#include "sim/cost/cost_model.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

class SlidingWindowCostModel final : public CostModel {
 public:
  SlidingWindowCostModel(std::unique_ptr<CostModel> full, const ModelSpec& model);
  IterationCost iteration(const BatchShape& shape) const override;
  std::int64_t activation_bytes(std::int64_t tokens) const override { return full_->activation_bytes(tokens); }
  std::string describe() const override;

  // The batch as the sliding layers see it: decodes capped at the window, chunks at the work of
  // the window (exposed for tests).
  BatchShape windowed(const BatchShape& s) const;

 private:
  std::unique_ptr<CostModel> full_;
  int window_ = 0;
  double sliding_share_ = 0;  // of the model's layers
  bool sinks_ = false;
};

}  // namespace kunsim
