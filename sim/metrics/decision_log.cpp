#include "sim/metrics/decision_log.hpp"

namespace kunsim {

void DecisionLog::write(const nlohmann::json& row) {
  const std::string kind = row.value("kind", std::string("?"));
  ++counts_[kind];
  // Multi-step decisions (restore, migrate, kv_exchange) also count per phase.
  if (row.contains("phase") && row["phase"].is_string()) ++counts_[kind + ":" + row["phase"].get<std::string>()];
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
