// LeastLoadIndex: which of N instances has the least load, kept up to date as loads change, so a
// dispatcher's pick costs O(log N) per instance that changed since the last pick instead of a
// walk over all N per arrival. At a thousand instances that walk was a third of a run, and the
// work per request grew with the fleet.
//
// It answers exactly what the walk answers: the lowest load, ties to the lowest index. A load is
// weighed again only when it may have changed:
//   - mark(i): the instance told its LoadWatch (KV blocks used or queued, capacity, its work):
//     weighed at the next pick;
//   - EngineView::next_load_step: a decode jump in flight moves kv_used_at at its step
//     boundaries with no event, and only upwards (decodes only grow). So a load weighed before
//     a boundary is a lower bound of the load now, and it need only be weighed again when it
//     would win: a pick takes the best by the loads as weighed, and while the winner has passed
//     a boundary it is weighed again and the best taken again. The winner's load is then
//     exact and no higher than any other's lower bound: it is the walk's answer.
// Between the two, an instance's load at a later time is its load when last weighed.
//
// The loads sit in a tournament tree: leaf i holds instance i, each inner node the better of
// its children, so the root is the answer and an update walks one leaf-to-root path.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "sim/core/sim_time.hpp"
#include "sim/serving/engine/engine_view.hpp"

namespace kunsim {

class LeastLoadIndex {
 public:
  // The load a dispatcher weighs: a pure function of the instance's state at `now`.
  using LoadFn = double (*)(const EngineView&, SimTime);
  explicit LeastLoadIndex(LoadFn load) : load_(load) {}

  // The instances to choose among (again whenever the list changes): every one is weighed at
  // the next pick.
  void reset(std::span<const EngineView* const> instances);
  // Instance i's load may have changed.
  void mark(std::size_t i) {
    if (i < stale_.size() && !stale_[i]) {
      stale_[i] = 1;
      marked_.push_back(i);
    }
  }
  // The index of the least loaded instance at `now` (non-decreasing over calls), ties to the
  // lowest index.
  std::size_t least(SimTime now);

 private:
  void weigh(std::size_t i, SimTime now);
  void set(std::size_t i, double load);  // and the path above it
  bool better(std::size_t a, std::size_t b) const { return key_[a] < key_[b] || (key_[a] == key_[b] && a < b); }
  LoadFn load_;
  std::vector<const EngineView*> views_;
  std::vector<double> key_;        // per instance, then +inf padding to leaves_
  std::vector<std::size_t> tree_;  // tree_[1] is the root; leaves at [leaves_, 2 leaves_)
  std::size_t leaves_ = 0;
  std::vector<char> stale_;          // marked since it was last weighed
  std::vector<std::size_t> marked_;  // those, in the order marked
  std::vector<SimTime> step_at_;     // its next step boundary after it was weighed (kSimTimeMax: none)
};

}  // namespace kunsim
