// prefix_aware: cache-aware routing (as SGLang's router and llm-d's prefix scorer do). Each
// instance scores the share of the request's prompt it holds cached, less its load as least_kv
// measures it ((KV used + KV queued) / capacity); the highest score wins, ties to the lowest
// index. A hot prefix thus draws its requests to where it is cached until that instance is more
// loaded than the prefix is worth, and then spreads. Idealised like least_kv: it sees every
// instance's cache and load exactly at each arrival. Without prefix identity it is least_kv.
#include "sim/serving/dispatch/dispatcher.hpp"
#include "sim/serving/prefix/prefix_directory.hpp"

namespace kunsim {
namespace {

class PrefixAwareDispatcher final : public Dispatcher {
 public:
  std::size_t pick(std::span<const EngineView* const> instances, const Request& r, SimTime now) override {
    matched_keys(instances, r);
    // Tokens per key, to turn matched keys into a share of the prompt.
    const double key_tokens =
        r.prefix.empty() ? 0 : static_cast<double>(r.prefix_unit) * instances[0]->settings().block_size;
    std::size_t best = 0;
    double best_score = 0;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const double score = matched_[i] * key_tokens / r.prompt - kv_load(*instances[i], now);
      if (i == 0 || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }

 private:
  // matched_[i]: the leading keys of r's prompt that instances[i] has cached. With the cluster's
  // directory, one look-up per key finds them for every instance at once; without it (a lone
  // engine in a test), each cache is asked.
  void matched_keys(std::span<const EngineView* const> instances, const Request& r) {
    matched_.assign(instances.size(), 0);
    if (r.prefix.empty()) return;
    const PrefixDirectory* dir = instances[0]->prefix_directory();
    if (!dir) {
      for (std::size_t i = 0; i < instances.size(); ++i)
        matched_[i] = instances[i]->cached_prefix_keys(r);
      return;
    }
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const auto id = static_cast<std::size_t>(instances[i]->id());
      if (index_of_.size() <= id) index_of_.resize(id + 1, -1);
      index_of_[id] = static_cast<int>(i);
    }
    for (std::size_t k = 0; k < r.prefix.size(); ++k) {
      const std::vector<int>* holders = dir->holders(r.prefix[k]);
      bool extended = false;
      for (int id : holders ? *holders : std::vector<int>{}) {
        const int i = static_cast<std::size_t>(id) < index_of_.size() ? index_of_[id] : -1;
        if (i >= 0 && matched_[i] == static_cast<int>(k)) {
          matched_[i] = static_cast<int>(k) + 1;
          extended = true;
        }
      }
      if (!extended) break;
    }
    for (const EngineView* e : instances) index_of_[e->id()] = -1;
  }
  std::vector<int> matched_;
  std::vector<int> index_of_;  // instance id -> index in the candidates of this call, else -1
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(prefix_aware, "prefix_aware",
                           "the most cached prefix (share of the prompt) less the load ((KV used + queued) / "
                           "capacity), seen exactly at each arrival (idealised)",
                           [](const DispatchParams&) { return std::make_unique<PrefixAwareDispatcher>(); });

}  // namespace kunsim
