// DecisionLog: decisions.jsonl, one JSON object a line, in the order decisions were made (which
// is deterministic: event order). Counts decisions by kind, and the multi-step ones
// (kv_exchange, restore, migrate) by phase too, as typed counters for the summary.
#pragma once
#include <array>
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/serving/engine/decision.hpp"

namespace kunsim {

class DecisionLog {
 public:
  explicit DecisionLog(std::FILE* out) : out_(out) {}  // out may be null
  // `row` is d.row(), built once by the caller for every listener.
  void write(const Decision& d, const nlohmann::json& row);
  std::int64_t count(DecisionKind kind) const { return by_kind_[static_cast<int>(kind)]; }
  std::int64_t count(DecisionKind kind, DecisionPhase phase) const {
    return by_phase_[static_cast<int>(kind)][static_cast<int>(phase)];
  }
  // Every non-zero count, named "kind" and "kind:phase" (the summary's planner.decisions).
  std::map<std::string, std::int64_t> counts() const;

 private:
  std::FILE* out_;
  std::array<std::int64_t, kDecisionKinds> by_kind_{};
  std::array<std::array<std::int64_t, kDecisionPhases>, kDecisionKinds> by_phase_{};
};

}  // namespace kunsim
