// CSV rows as profile files and imported tables have them: a header line naming the columns,
// then comma-separated fields. Every error names file:line, so a bad row is fixed where it is.
#pragma once
#include <istream>
#include <string>
#include <vector>

#include "sim/core/input_error.hpp"

namespace kunsim {

std::vector<std::string> split_fields(const std::string& line, char sep = ',');

// A finite number >= 0, else InputError "where: what: expected ...".
double csv_number(const std::string& s, const std::string& where, const char* what);

// Calls row(fields, "file:line") for each data line of a CSV whose header must be `header`.
template <class Row>
void read_csv(std::istream& in, const std::string& name, const std::string& header, Row row) {
  std::string line;
  std::size_t n = 0;
  const std::size_t cols = split_fields(header).size();
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = name + ":" + std::to_string(n);
    if (n == 1) {
      if (line != header) throw InputError(where + ": expected header \"" + header + "\"");
      continue;
    }
    const auto f = split_fields(line);
    if (f.size() != cols)
      throw InputError(where + ": expected " + std::to_string(cols) + " fields, got " + std::to_string(f.size()));
    row(f, where);
  }
}

}  // namespace kunsim
