// DecisionDiff: compares two decisions.jsonl files row by row, as JSON values (key order and
// number spelling do not matter), and reports the first differing decision with the row
// before it for context and the fields that differ. This is how CI notices that a planner
// decision changed.
#pragma once
#include <string>

namespace kunsim {

struct DecisionDiffResult {
  bool same = true;
  std::size_t rows = 0;      // rows compared (equal prefix length when they differ)
  std::string report;        // human-readable, ends with a newline
};

// `a_path` and `b_path` are decisions.jsonl files or run folders holding one (anything else,
// or a folder without one, is an InputError). Throws InputError naming file:line for
// unreadable files or malformed rows.
DecisionDiffResult diff_decisions(const std::string& a_path, const std::string& b_path);

}  // namespace kunsim
