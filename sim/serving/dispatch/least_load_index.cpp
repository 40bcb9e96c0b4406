#include "sim/serving/dispatch/least_load_index.hpp"

#include <limits>

namespace kunsim {

void LeastLoadIndex::reset(std::span<const EngineView* const> instances) {
  views_.assign(instances.begin(), instances.end());
  const std::size_t n = views_.size();
  leaves_ = 1;
  while (leaves_ < n) leaves_ *= 2;
  key_.assign(leaves_, std::numeric_limits<double>::infinity());
  tree_.assign(2 * leaves_, 0);
  for (std::size_t i = 0; i < leaves_; ++i) tree_[leaves_ + i] = i;
  for (std::size_t v = leaves_ - 1; v >= 1; --v)
    tree_[v] = better(tree_[2 * v + 1], tree_[2 * v]) ? tree_[2 * v + 1] : tree_[2 * v];
  stale_.assign(n, 0);
  marked_.clear();
  step_at_.assign(n, kSimTimeMax);
  for (std::size_t i = 0; i < n; ++i) mark(i);
}

void LeastLoadIndex::set(std::size_t i, double load) {
  key_[i] = load;
  for (std::size_t v = (leaves_ + i) / 2; v >= 1; v /= 2) {
    const std::size_t l = tree_[2 * v], r = tree_[2 * v + 1];
    tree_[v] = better(r, l) ? r : l;
  }
}

void LeastLoadIndex::weigh(std::size_t i, SimTime now) {
  set(i, load_(*views_[i], now));
  step_at_[i] = views_[i]->next_load_step(now);
}

std::size_t LeastLoadIndex::least(SimTime now) {
  for (std::size_t i : marked_) {
    stale_[i] = 0;
    weigh(i, now);
  }
  marked_.clear();
  if (views_.empty()) return 0;
  while (step_at_[tree_[1]] <= now) weigh(tree_[1], now);
  return tree_[1];
}

}  // namespace kunsim
