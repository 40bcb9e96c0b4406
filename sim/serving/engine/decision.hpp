// Decision: one row of decisions.jsonl, typed. What was decided (kind, and for the multi-step
// reconfigurations, which step) is an enum, so counts and checks never hang on a spelling; the
// rest of the row (instance, request, blocks, reason, the planner's estimates) is free-form
// JSON. The file's format is unchanged: a row is {"t_ns", "kind", ["phase"], fields...}.
#pragma once
#include <cstddef>
#include <cstdint>
#include <iterator>

#include <nlohmann/json.hpp>

#include "sim/core/sim_time.hpp"

namespace kunsim {

// Each kind and phase is one line below, with its name in decisions.jsonl: the enum, the names
// and the counts that size DecisionLog's arrays all come from these lists, so none can drift.
// clang-format off
#define KUNSIM_DECISION_KINDS(X)                                                                           \
  X(Reject, "reject") X(Preempt, "preempt") X(SwapOut, "swap_out") X(SwapIn, "swap_in") X(Abort, "abort") \
  X(Drop, "drop") X(Grow, "grow") X(KvExchange, "kv_exchange") X(Restore, "restore") X(Migrate, "migrate") \
  X(Handoff, "handoff") X(NoDrop, "no_drop")
// clang-format on
#define KUNSIM_DECISION_PHASES(X)                                                                          \
  X(None, "") X(Begin, "begin") X(Pull, "pull") X(Gather, "gather") X(Split, "split") X(Done, "done") X(End, "end")

#define KUNSIM_DECISION_ENUMERATOR(e, name) e,
#define KUNSIM_DECISION_NAME(e, name) name,
#define KUNSIM_DECISION_ONE(e, name) +1
enum class DecisionKind : std::uint8_t { KUNSIM_DECISION_KINDS(KUNSIM_DECISION_ENUMERATOR) };
enum class DecisionPhase : std::uint8_t { KUNSIM_DECISION_PHASES(KUNSIM_DECISION_ENUMERATOR) };
inline constexpr int kDecisionKinds = 0 KUNSIM_DECISION_KINDS(KUNSIM_DECISION_ONE);
inline constexpr int kDecisionPhases = 0 KUNSIM_DECISION_PHASES(KUNSIM_DECISION_ONE);

inline const char* decision_kind_name(DecisionKind k) {
  static constexpr const char* kNames[] = {KUNSIM_DECISION_KINDS(KUNSIM_DECISION_NAME)};
  const auto i = static_cast<std::size_t>(k);
  return i < std::size(kNames) ? kNames[i] : "?";
}
inline const char* decision_phase_name(DecisionPhase p) {
  static constexpr const char* kNames[] = {KUNSIM_DECISION_PHASES(KUNSIM_DECISION_NAME)};
  const auto i = static_cast<std::size_t>(p);
  return i < std::size(kNames) ? kNames[i] : "?";
}
#undef KUNSIM_DECISION_ENUMERATOR
#undef KUNSIM_DECISION_NAME
#undef KUNSIM_DECISION_ONE

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

}  // namespace kunsim
