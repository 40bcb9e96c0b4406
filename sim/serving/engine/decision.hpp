// Decision: one row of decisions.jsonl, typed. What was decided (kind, and for the multi-step
// reconfigurations, which step) is an enum, so counts and checks never hang on a spelling; the
// rest of the row (instance, request, blocks, reason, the planner's estimates) is free-form
// JSON. The file's format is unchanged: a row is {"t_ns", "kind", ["phase"], fields...}.
#pragma once
#include <cstdint>

#include <nlohmann/json.hpp>

#include "sim/core/sim_time.hpp"

namespace kunsim {

enum class DecisionKind : std::uint8_t { Reject, Preempt, SwapOut, SwapIn, Abort, Drop, Grow, KvExchange, Restore, Migrate, Handoff };
inline constexpr int kDecisionKinds = 11;
enum class DecisionPhase : std::uint8_t { None, Begin, Pull, Gather, Split, Done, End };
inline constexpr int kDecisionPhases = 7;

const char* decision_kind_name(DecisionKind k);
const char* decision_phase_name(DecisionPhase p);

struct Decision {
  SimTime t = kSimTimeZero;
  DecisionKind kind = DecisionKind::Reject;
  DecisionPhase phase = DecisionPhase::None;
  nlohmann::json fields = nlohmann::json::object();  // instance, request, reason, ...

  // The decisions.jsonl row.
  nlohmann::json row() const {
    nlohmann::json j = fields;
    j["t_ns"] = t.ns();
    j["kind"] = decision_kind_name(kind);
    if (phase != DecisionPhase::None) j["phase"] = decision_phase_name(phase);
    return j;
  }
};

inline const char* decision_kind_name(DecisionKind k) {
  switch (k) {
    case DecisionKind::Reject: return "reject";
    case DecisionKind::Preempt: return "preempt";
    case DecisionKind::SwapOut: return "swap_out";
    case DecisionKind::SwapIn: return "swap_in";
    case DecisionKind::Abort: return "abort";
    case DecisionKind::Drop: return "drop";
    case DecisionKind::Grow: return "grow";
    case DecisionKind::KvExchange: return "kv_exchange";
    case DecisionKind::Restore: return "restore";
    case DecisionKind::Migrate: return "migrate";
    case DecisionKind::Handoff: return "handoff";
  }
  return "?";
}

inline const char* decision_phase_name(DecisionPhase p) {
  switch (p) {
    case DecisionPhase::None: return "";
    case DecisionPhase::Begin: return "begin";
    case DecisionPhase::Pull: return "pull";
    case DecisionPhase::Gather: return "gather";
    case DecisionPhase::Split: return "split";
    case DecisionPhase::Done: return "done";
    case DecisionPhase::End: return "end";
  }
  return "?";
}

}  // namespace kunsim
