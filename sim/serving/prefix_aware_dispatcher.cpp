// prefix_aware: cache-aware routing (as SGLang's router and llm-d's prefix scorer do). Each
// instance scores the share of the request's prompt it holds cached, less its load as least_kv
// measures it ((KV used + KV queued) / capacity); the highest score wins, ties to the lowest
// index. A hot prefix thus draws its requests to where it is cached until that instance is more
// loaded than the prefix is worth, and then spreads. Idealised like least_kv: it sees every
// instance's cache and load exactly at each arrival. Without prefix identity it is least_kv.
#include "sim/serving/dispatcher.hpp"

namespace kunsim {
namespace {

class PrefixAwareDispatcher final : public Dispatcher {
 public:
  std::size_t pick(const std::vector<Instance*>& instances, const Request& r, SimTime now) override {
    std::size_t best = 0;
    double best_score = 0;
    const auto keys = static_cast<int>(r.prefix.size());
    // Tokens per key, to turn matched keys into a share of the prompt.
    const double key_tokens = keys ? static_cast<double>(r.prefix_unit) * instances[0]->context().engine->block_size : 0;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const Instance& inst = *instances[i];
      const double load = static_cast<double>(inst.kv_used_at(now) + inst.queued_blocks()) /
                          static_cast<double>(inst.kv().capacity());
      double score = -load;
      if (keys > 0) score += inst.kv().prefixes().match(r.prefix.data(), keys, 0) * key_tokens / r.prompt;
      if (i == 0 || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(prefix_aware, "prefix_aware",
                           "the most cached prefix (share of the prompt) less the load ((KV used + queued) / "
                           "capacity), seen exactly at each arrival (idealised)",
                           [](const DispatchParams&) { return std::make_unique<PrefixAwareDispatcher>(); });

}  // namespace kunsim
