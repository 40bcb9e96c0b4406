#include "sim/metrics/decision_diff.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "sim/core/input_file.hpp"
#include "sim/core/json_fields.hpp"

namespace kunsim {
namespace {

class Rows {
 public:
  explicit Rows(std::string path) : path_(std::move(path)), in_(open_input_file(path_, "decision log")) {}
  // The next non-empty row, parsed.
  std::optional<Json> next() {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      try {
        return Json::parse(line);
      } catch (const Json::exception& e) {
        throw InputError(path_ + ":" + std::to_string(line_no_) + ": malformed decision row (" + e.what() + ")");
      }
    }
    return std::nullopt;
  }
  std::size_t line() const { return line_no_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::size_t line_no_ = 0;
};

std::string fields_that_differ(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object()) return "(whole row)";
  std::set<std::string> keys;
  for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
  for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
  std::string out;
  for (const auto& k : keys) {
    const bool ia = a.contains(k), ib = b.contains(k);
    if (ia && ib && a[k] == b[k]) continue;
    out += "  " + k + ": " + (ia ? a[k].dump() : "(absent)") + " -> " + (ib ? b[k].dump() : "(absent)") + "\n";
  }
  return out;
}

}  // namespace

std::string decision_log_of(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return path;  // a file: open_input_file checks it is one
  const std::string log = (std::filesystem::path(path) / "decisions.jsonl").string();
  if (!not_a_regular_file(log).empty())
    throw InputError(path + ": a folder without decisions.jsonl; give two run folders or two decisions.jsonl files");
  return log;
}

DecisionDiffResult diff_decisions(const std::string& a_path, const std::string& b_path) {
  Rows a(decision_log_of(a_path)), b(decision_log_of(b_path));
  DecisionDiffResult r;
  std::optional<Json> prev;
  for (;;) {
    std::optional<Json> x = a.next(), y = b.next();
    if (!x && !y) {
      r.report = "no difference (" + std::to_string(r.rows) + " decisions)\n";
      return r;
    }
    if (x && y && *x == *y) {
      ++r.rows;
      prev = std::move(x);
      continue;
    }
    r.same = false;
    std::string& o = r.report;
    o = "first difference at decision " + std::to_string(r.rows + 1) + " (" + a.path() + ":" + std::to_string(a.line()) +
        ", " + b.path() + ":" + std::to_string(b.line()) + ")\n";
    if (prev) o += "after: " + prev->dump() + "\n";
    o += "< " + (x ? x->dump() : std::string("(no more decisions)")) + "\n";
    o += "> " + (y ? y->dump() : std::string("(no more decisions)")) + "\n";
    if (x && y) o += fields_that_differ(*x, *y);
    return r;
  }
}

}  // namespace kunsim
