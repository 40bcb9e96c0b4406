// least_work: the instance that would reach the arriving prompt soonest, in its own GPUs' time.
// The prompts waiting there and the new one take backlog/budget iterations of a full token
// budget of prefill, each also carrying a step of the running decodes (their count and context,
// as they stand), and the prompt's own iteration carries one more: wait ~ iters * prefill(budget)
// + (iters + 1) * decode(running). Prefill and decode are priced once per instance group by the
// group's cost model (a linear fit in decodes and context), so on a fleet of unequal instances
// work goes where it is computed soonest, where least_kv weighs memory alone (and would give an
// A100 TP2 instance with 2.7x an H100's KV 2.7x its load at two thirds of its speed). Instances
// whose KV is full are taken only when all are; ties go to the lower index. Idealised: it sees
// every instance's exact state at every arrival.
#include <algorithm>
#include <vector>

#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {
namespace {

class LeastWorkDispatcher final : public Dispatcher {
 public:
  std::size_t pick(std::span<const EngineView* const> instances, const Request& r, SimTime now) override {
    std::size_t best = 0;
    double best_score = 0;
    bool best_full = true;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const EngineView& e = *instances[i];
      const Rates& rate = rates(e);
      const auto backlog = static_cast<double>(e.queued_blocks() * e.settings().block_size + r.prompt);
      const double iters = backlog / rate.budget;
      const double decode = e.decoding() * rate.decode_s_per_seq + static_cast<double>(e.decode_context_sum()) * rate.decode_s_per_token;
      const double score = iters * rate.prefill_s + (iters + 1) * decode;
      const bool full = kv_load(e, now) >= 1.0;
      if (i == 0 || (best_full && !full) || (full == best_full && score < best_score)) {
        best = i;
        best_score = score;
        best_full = full;
      }
    }
    return best;
  }

 private:
  struct Rates {
    double budget = 1, prefill_s = 0;  // an iteration of a full token budget of 1k-token prompts
    double decode_s_per_seq = 0, decode_s_per_token = 0;  // a decode step: per decode, per context token
    bool known = false;
  };
  // A group's rates from its cost model, priced on first use: the decode step is fitted through
  // 64 decodes at 1k and at 4k context.
  const Rates& rates(const EngineView& e) {
    const int group = e.instance_group();
    if (static_cast<std::size_t>(group) >= rates_.size()) rates_.resize(group + 1);
    Rates& r = rates_[group];
    if (r.known) return r;
    const int layers = e.model().layers;
    BatchShape prefill;
    prefill.layers = layers;
    const int budget = e.settings().max_num_batched_tokens;
    for (int left = budget; left > 0; left -= 1024) prefill.prefills.push_back({std::min(left, 1024), 0});
    prefill.sampled = static_cast<int>(prefill.prefills.size());
    r.budget = budget;
    r.prefill_s = e.cost().iteration(prefill).sum();
    BatchShape decode;
    decode.layers = layers;
    decode.num_decodes = 64;
    decode.sampled = 64;
    decode.decode_context_sum = 64 * 1024;
    const double at_1k = e.cost().iteration(decode).sum();
    decode.decode_context_sum = 64 * 4096;
    const double at_4k = e.cost().iteration(decode).sum();
    r.decode_s_per_token = std::max(0.0, (at_4k - at_1k) / (64.0 * 3072));
    r.decode_s_per_seq = std::max(0.0, (at_1k - r.decode_s_per_token * 64 * 1024) / 64);
    r.known = true;
    return r;
  }
  std::vector<Rates> rates_;  // by instance group
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(least_work, "least_work",
                           "the least queued work in seconds of each instance's own GPUs (fleets of unequal instances; idealised)",
                           [](const DispatchParams&) { return std::make_unique<LeastWorkDispatcher>(); });

}  // namespace kunsim
