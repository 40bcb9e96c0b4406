#include "sim/cost/sliding_window_cost_model.hpp"

#include <algorithm>
#include <cmath>

namespace kunsim {
namespace {

// Keys the queries at positions first + 1 .. last attend to, each at most `w`.
double windowed_keys(double first, double last, double w) {
  const auto upto = [w](double p) { return p <= w ? p * (p + 1) / 2 : w * (w + 1) / 2 + (p - w) * w; };
  return upto(last) - upto(first);
}

}  // namespace

SlidingWindowCostModel::SlidingWindowCostModel(std::unique_ptr<CostModel> full, const ModelSpec& model)
    : full_(std::move(full)),
      window_(model.sliding_window.window),
      sliding_share_(static_cast<double>(model.sliding_layers_in(0, model.layers)) / model.layers),
      sinks_(model.attention_sinks) {}

BatchShape SlidingWindowCostModel::windowed(const BatchShape& s) const {
  BatchShape w = s;
  w.decode_contexts = {};
  const double cap = window_;
  for (PrefillChunk& c : w.prefills) {
    // The prompt whose causal work, n^2 less the cached part (prefill_equivalent), is 2 x keys.
    const double keys = windowed_keys(c.context, static_cast<double>(c.context) + c.tokens, cap);
    c.tokens = std::max(1, static_cast<int>(std::lround(std::sqrt(2 * keys))));
    c.context = 0;
  }
  if (s.num_decodes > 0) {
    std::int64_t sum = 0;
    if (!s.decode_contexts.empty()) {
      for (const int ctx : s.decode_contexts) sum += std::min(ctx, window_);
    } else {
      sum = std::min<std::int64_t>(s.decode_context_sum, std::int64_t{window_} * s.num_decodes);
    }
    w.decode_context_sum = sum;
  }
  return w;
}

IterationCost SlidingWindowCostModel::iteration(const BatchShape& s) const {
  IterationCost c = full_->iteration(s);
  if (s.prefills.empty() && s.num_decodes == 0) return c;
  const IterationCost w = full_->iteration(windowed(s));
  c.attn_prefill = (1 - sliding_share_) * c.attn_prefill + sliding_share_ * w.attn_prefill;
  c.attn_decode = (1 - sliding_share_) * c.attn_decode + sliding_share_ * w.attn_decode;
  return c;
}

std::string SlidingWindowCostModel::describe() const {
  char share[64];
  std::snprintf(share, sizeof share, "%.0f%%", 100 * sliding_share_);
  std::string d = full_->describe() + "; sliding windows: " + share + " of layers at " + std::to_string(window_) +
                  " tokens, read from the full-attention kernels at equal work";
  if (sinks_) d += "; attention sinks priced as plain attention (not in the tables)";
  return d;
}

}  // namespace kunsim
