#include "sim/metrics/decision_log.hpp"

namespace kunsim {

void DecisionLog::write(const Decision& d, const nlohmann::json& row) {
  ++by_kind_[static_cast<int>(d.kind)];
  ++by_phase_[static_cast<int>(d.kind)][static_cast<int>(d.phase)];
  if (!out_) return;
  const std::string line = row.dump();
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
}

std::map<std::string, std::int64_t> DecisionLog::counts() const {
  std::map<std::string, std::int64_t> out;
  for (int k = 0; k < kDecisionKinds; ++k) {
    if (by_kind_[k] == 0) continue;
    const std::string kind = decision_kind_name(static_cast<DecisionKind>(k));
    out[kind] = by_kind_[k];
    for (int p = 1; p < kDecisionPhases; ++p)
      if (by_phase_[k][p] > 0) out[kind + ":" + decision_phase_name(static_cast<DecisionPhase>(p))] = by_phase_[k][p];
  }
  return out;
}

}  // namespace kunsim
