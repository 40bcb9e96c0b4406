#include "sim/metrics/decision_log.hpp"

namespace kunsim {

void DecisionLog::write(const nlohmann::json& row) {
  ++counts_[row.value("kind", std::string("?"))];
  if (!out_) return;
  const std::string line = row.dump();
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fputc('\n', out_);
}

std::int64_t DecisionLog::count(const std::string& kind) const {
  auto it = counts_.find(kind);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace kunsim
