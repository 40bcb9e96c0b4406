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

// Calls row(fields, "file:line") for each data line of a CSV whose header must be `header`,
// or one of `older` (earlier versions of the same file, with fewer or other columns; the row
// gets the fields its own header has).
template <class Row>
void read_csv(std::istream& in, const std::string& name, const std::string& header, Row row,
              const std::vector<std::string>& older = {}) {
  std::string line;
  std::size_t n = 0;
  std::size_t cols = split_fields(header).size();
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = name + ":" + std::to_string(n);
    if (n == 1) {
      bool known = line == header;
      for (const std::string& h : older) known |= line == h;
      if (!known) throw InputError(where + ": expected header \"" + header + "\"");
      cols = split_fields(line).size();
      continue;
    }
    const auto f = split_fields(line);
    if (f.size() != cols)
      throw InputError(where + ": expected " + std::to_string(cols) + " fields, got " + std::to_string(f.size()));
    row(f, where);
  }
}

}  // namespace kunsim
