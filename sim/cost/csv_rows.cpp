#include "sim/cost/csv_rows.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace kunsim {

std::vector<std::string> split_fields(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(sep, start);
    out.emplace_back(line, start, end == std::string::npos ? std::string::npos : end - start);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (line.empty()) out.clear();
  return out;
}

double csv_number(const std::string& s, const std::string& where, const char* what) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  const bool whole = ec == std::errc() && end == s.data() + s.size();
  if (!whole || s.empty() || !std::isfinite(v) || v < 0)
    throw InputError(where + ": " + what + ": expected a finite number >= 0, got \"" + s.substr(0, 40) + "\"");
  return v;
}

}  // namespace kunsim
