#include "sim/cost/csv_rows.hpp"

#include <cmath>
#include <sstream>

namespace kunsim {

std::vector<std::string> split_fields(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

double csv_number(const std::string& s, const std::string& where, const char* what) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used != s.size() || s.empty() || !std::isfinite(v) || v < 0)
    throw InputError(where + ": " + what + ": expected a finite number >= 0, got \"" + s.substr(0, 40) + "\"");
  return v;
}

}  // namespace kunsim
