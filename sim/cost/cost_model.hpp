// CostModel: op + shape -> time, the one contract every cost source implements (roofline now,
// measured profiles later). `iteration` prices one forward pass of a batch and itemises it;
// `decode_run` prices a run of decode-only steps so the simulator can jump over them: step i of
// the run (contexts grown by i tokens each) takes first_ns + slope_ns * i.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/cost/batch_shape.hpp"
#include "sim/core/sim_time.hpp"

namespace kunsim {

// Seconds of one iteration, by op; sum() is the iteration's latency.
struct IterationCost {
  double qkv = 0, attn_prefill = 0, attn_decode = 0, o_proj = 0, mlp = 0, lm_head = 0;
  double allreduce = 0, send = 0, cpu = 0;
  double draft = 0;  // the speculative proposer's passes (SpeculativeCostModel)
  double sum() const {
    return qkv + attn_prefill + attn_decode + o_proj + mlp + lm_head + allreduce + send + cpu + draft;
  }
};

struct DecodeRun {
  double first_ns = 0;
  double slope_ns = 0;  // added per step as every context grows by one token
  // Nanoseconds from the run's start to the end of step k (k steps done), rounded once.
  SimDuration elapsed(std::int64_t k) const {
    const double kd = static_cast<double>(k);
    return SimDuration::from_ns(static_cast<std::int64_t>(kd * first_ns + slope_ns * kd * (kd - 1.0) / 2.0 + 0.5));
  }
  // Steps completed by `offset` ns into the run: the largest k with elapsed(k) <= offset.
  std::int64_t steps_by(SimDuration offset) const;
};

// Per-layer seconds of the ops that depend only on the batch's token count (QKV, O, the MLP with
// its element-wise kernels, all-reduce). Every cost model tabulates them per count on first use
// (TokenOpsTable): the hot path's lookup table.
struct TokenOps {
  double qkv = -1, o_proj = 0, mlp = 0, allreduce = 0;
  double dense_mlp = 0;  // an MoE model's leading dense layers' MLP (mlp is its MoE layers')
  // These ops over `layers` layers of which `dense_layers` are an MoE model's dense ones, as the
  // start of an iteration's cost.
  IterationCost over(double layers, double dense_layers = 0) const {
    IterationCost c;
    c.qkv = layers * qkv;
    c.o_proj = layers * o_proj;
    c.mlp = (layers - dense_layers) * mlp + dense_layers * dense_mlp;
    c.allreduce = layers * allreduce;
    return c;
  }
};

class TokenOpsTable {
 public:
  // The ops of `tokens` tokens, computed by `compute(double tokens)` once per count (counts
  // past the table are computed every time).
  template <class Compute>
  const TokenOps& get(std::int64_t tokens, Compute compute) const {
    constexpr std::int64_t kTableMax = 1 << 16;
    if (tokens >= kTableMax) {
      scratch_ = compute(static_cast<double>(tokens));
      return scratch_;
    }
    if (static_cast<std::int64_t>(table_.size()) <= tokens) table_.resize(static_cast<std::size_t>(tokens) + 1);
    TokenOps& o = table_[static_cast<std::size_t>(tokens)];
    if (o.qkv < 0) o = compute(static_cast<double>(tokens));
    return o;
  }

 private:
  mutable std::vector<TokenOps> table_;
  mutable TokenOps scratch_;
};

class CostModel {
 public:
  virtual ~CostModel() = default;
  virtual IterationCost iteration(const BatchShape& shape) const = 0;
  // Default: linear between the first two steps (exact for models whose decode time is affine
  // in total context, such as the roofline). Each step grows every context by
  // `tokens_per_step` on average (more than 1 where decodes verify speculative drafts).
  virtual DecodeRun decode_run(const BatchShape& decode_only, double tokens_per_step = 1.0) const;
  // Bytes of activations handed from one pipeline stage to the next for `tokens` tokens.
  virtual std::int64_t activation_bytes(std::int64_t tokens) const = 0;
  // Seconds to send those activations over an idle link of `bytes_per_s` and `latency_ns`
  // (the cluster's LinkScheduler adds queueing when the link is shared).
  double pipeline_send(std::int64_t tokens, double bytes_per_s, std::int64_t latency_ns) const {
    return static_cast<double>(activation_bytes(tokens)) / bytes_per_s + static_cast<double>(latency_ns) * 1e-9;
  }
  // One line for summaries: which model, from what data.
  virtual std::string describe() const = 0;
};

}  // namespace kunsim
