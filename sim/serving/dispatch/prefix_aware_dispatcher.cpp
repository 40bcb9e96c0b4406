// prefix_aware: cache-aware routing (as SGLang's router and llm-d's prefix scorer do). Each
// instance scores the share of the request's prompt it holds cached, less its load as least_kv
// measures it ((KV used + KV queued) / capacity); the highest score wins, ties to the lowest
// index. A hot prefix thus draws its requests to where it is cached until that instance is more
// loaded than the prefix is worth, and then spreads. Idealised like least_kv: it sees every
// instance's cache and load exactly at each arrival. Without prefix identity it is least_kv.
//
// Tracked, a pick weighs only the instances holding the prompt's first key (found in the
// cluster's directory) and the least loaded instance (LeastLoadIndex, as least_kv keeps it). Any
// other instance scores minus its load, which is no more than the least loaded one's score, and
// ties go to that one (the lowest index among the least loaded): so the best of those weighed is
// the walk's answer. Its cost is the directory's holders of the prompt's keys: a prefix cached
// on every instance (a system prompt) is still a walk over the fleet's list for that key.
#include "sim/serving/dispatch/dispatcher.hpp"
#include "sim/serving/dispatch/least_load_index.hpp"
#include "sim/serving/prefix/prefix_directory.hpp"

namespace kunsim {
namespace {

class PrefixAwareDispatcher final : public Dispatcher {
 public:
  std::size_t pick(std::span<const EngineView* const> instances, const Request& r, SimTime now) override {
    matched_keys(instances, r);
    const double key_tokens = tokens_per_key(*instances[0], r);
    std::size_t best = 0;
    double best_score = 0;
    for (std::size_t i = 0; i < instances.size(); ++i) {
      const double score = score_of(matched_[i], key_tokens, r, *instances[i], now);
      if (i == 0 || score > best_score) {
        best = i;
        best_score = score;
      }
    }
    return best;
  }

  bool tracks_loads() const override { return true; }
  void track(std::span<const EngineView* const> instances) override {
    index_.reset(instances);
    tracked_.assign(instances.begin(), instances.end());
    tracked_index_.clear();
    for (std::size_t i = 0; i < tracked_.size(); ++i) {
      const auto id = static_cast<std::size_t>(tracked_[i]->id());
      if (tracked_index_.size() <= id) tracked_index_.resize(id + 1, -1);
      tracked_index_[id] = static_cast<int>(i);
    }
    keys_of_.assign(tracked_.size(), 0);
  }
  void load_changed(std::size_t index) override { index_.mark(index); }
  std::size_t pick_tracked(const Request& r, SimTime now) override {
    const std::size_t least = index_.least(now);
    if (r.prefix.empty()) return least;
    const PrefixDirectory* dir = tracked_[0]->prefix_directory();
    if (!dir) return pick(tracked_, r, now);
    match_in_directory(*dir, r, tracked_index_, keys_of_);
    const double key_tokens = tokens_per_key(*tracked_[0], r);
    std::size_t best = least;
    double best_score = score_of(keys_of_[least], key_tokens, r, *tracked_[least], now);
    for (std::size_t i : held_) {
      const double score = score_of(keys_of_[i], key_tokens, r, *tracked_[i], now);
      if (score > best_score || (score == best_score && i < best)) {
        best = i;
        best_score = score;
      }
    }
    for (std::size_t i : held_) keys_of_[i] = 0;
    return best;
  }

 private:
  // Tokens per key, to turn matched keys into a share of the prompt.
  static double tokens_per_key(const EngineView& e, const Request& r) {
    return r.prefix.empty() ? 0 : static_cast<double>(r.prefix_unit) * e.settings().block_size;
  }
  // An instance's score: the share of r's prompt its `keys` cover, less its load.
  static double score_of(int keys, double key_tokens, const Request& r, const EngineView& e, SimTime now) {
    return keys * key_tokens / r.prompt - kv_load(e, now);
  }
  // keys[i]: the leading keys of r's prompt that instance i (index_of: instance id -> i, else
  // -1) has cached, one directory look-up per key, for every instance at once; `keys` is 0 for
  // every instance on entry. held_: the instances holding the first key.
  void match_in_directory(const PrefixDirectory& dir, const Request& r, const std::vector<int>& index_of,
                          std::vector<int>& keys) {
    held_.clear();
    for (std::size_t k = 0; k < r.prefix.size(); ++k) {
      bool extended = false;
      for (int id : dir.holders(r.prefix[k])) {
        const int i = static_cast<std::size_t>(id) < index_of.size() ? index_of[id] : -1;
        if (i >= 0 && keys[i] == static_cast<int>(k)) {
          if (k == 0) held_.push_back(static_cast<std::size_t>(i));
          keys[i] = static_cast<int>(k) + 1;
          extended = true;
        }
      }
      if (!extended) break;
    }
  }
  // matched_[i]: the leading keys of r's prompt that instances[i] has cached, from the cluster's
  // directory; without it (a lone engine in a test), each cache is asked.
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
    match_in_directory(*dir, r, index_of_, matched_);
    for (const EngineView* e : instances) index_of_[e->id()] = -1;
  }
  std::vector<int> matched_;
  std::vector<int> index_of_;  // instance id -> index in the candidates of this call, else -1
  // Tracked: the instances, their index by id, and a pick's instances holding the first key.
  LeastLoadIndex index_{kv_load};
  std::vector<const EngineView*> tracked_;
  std::vector<int> tracked_index_;
  std::vector<int> keys_of_;       // per tracked instance: leading keys held (0 outside a pick)
  std::vector<std::size_t> held_;  // a pick's instances holding the first key
};

}  // namespace

KUNSIM_REGISTER_DISPATCHER(prefix_aware, "prefix_aware",
                           "the most cached prefix (share of the prompt) less the load ((KV used + queued) / "
                           "capacity), seen exactly at each arrival (idealised)",
                           [](const DispatchParams&) { return std::make_unique<PrefixAwareDispatcher>(); });

}  // namespace kunsim
