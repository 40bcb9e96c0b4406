// SlotLedger: each deployment instance's share of the work, however KunServe regrouped it. An
// instance (a slot: one TP group of GPUs) is served alone by a normal engine, or as one stage
// of a pipeline group; engines come and go as groups fuse, grow and split. summary.json's
// `instances[]` has one row per slot, and the rows add up to the run's totals by this rule:
//   - an engine serving one slot credits all its counters to that slot;
//   - a g-stage group's iterations, decode jumps, preemptions, recomputes, swaps and prefix
//     counts are credited once, to its first stage (the stage that schedules the group, and
//     whose requests' KV spans every stage), so each counts once in the run's total;
//   - its busy time is split evenly, busy/g to each stage (the remainder, under g ns, to the
//     first), since every stage's GPUs work through each pipelined iteration;
//   - every stage also records the group's iterations as `fused_iterations` and its share of
//     busy time as `fused_busy`, for reading, not for adding up.
// An engine is credited when it retires (fused, grown or split away) and, for the live ones,
// when the summary is taken; run_summary checks in debug builds that the rows sum to the totals.
#pragma once
#include <vector>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

struct SlotFigures {
  EngineCounters credited;            // this slot's share by the rule above
  std::int64_t fused_iterations = 0;  // iterations of the groups it was a stage of
  SimDuration fused_busy;             // its share of those groups' busy time (within credited)
};

class SlotLedger {
 public:
  explicit SlotLedger(int slots) : slots_(static_cast<std::size_t>(slots)) {}
  void credit(const Engine& e) {
    total_ += e.counters();
    share(e, slots_);
  }
  // The ledger with `live` engines credited as well (the summary's view at the end of a run).
  std::vector<SlotFigures> with(const std::vector<Engine*>& live) const;
  // Every engine's counters, retired and live, each counted once.
  EngineCounters total(const std::vector<Engine*>& live) const;

 private:
  // Adds `e`'s counters to its slots by the rule above.
  static void share(const Engine& e, std::vector<SlotFigures>& slots);
  std::vector<SlotFigures> slots_;
  EngineCounters total_;
};

}  // namespace kunsim
