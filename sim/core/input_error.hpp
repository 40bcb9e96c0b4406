// InputError: bad input from the user (scenario, trace, CLI). The CLI maps it to exit code 2.
// The message always names where the problem is: a JSON path (`cluster.gpus_per_node`) or a
// file:line, so the user can fix it without reading kunsim's code.
#pragma once
#include <cmath>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>

namespace kunsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(what) {}
};

// `text` with every control byte (and DEL) written as \xNN: a message quotes trace fields and
// JSON keys a user gave, and terminal escape sequences in them must not reach the terminal.
inline std::string escape_control_bytes(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u != 0x7f) {
      out.push_back(c);
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", u);
    out += buf;
  }
  return out;
}

// A number as a message shows it: 6 significant digits, no trailing zeros ("0.001", "1.8e+09").
inline std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A command-line value read whole as a finite number ("2", "0.05", "1e3"), or nullopt: trailing
// text, "inf" and "nan" are no number here. The caller names the flag in its error.
inline std::optional<double> parse_number(const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (used == 0 || used != text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace kunsim
