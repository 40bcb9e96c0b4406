// DecisionLog: decisions.jsonl, one JSON object a line, in the order decisions were made (which
// is deterministic: event order). Counts rows by kind for the summary's planner block.
#pragma once
#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace kunsim {

class DecisionLog {
 public:
  explicit DecisionLog(std::FILE* out) : out_(out) {}  // out may be null
  void write(const nlohmann::json& row);
  std::int64_t count(const std::string& kind) const;
  const std::map<std::string, std::int64_t>& counts() const { return counts_; }

 private:
  std::FILE* out_;
  std::map<std::string, std::int64_t> counts_;
};

}  // namespace kunsim
