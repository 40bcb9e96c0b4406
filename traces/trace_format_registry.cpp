#include "traces/trace_format_registry.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "sim/core/input_error.hpp"

namespace kunsim {

std::map<std::string, TraceFormat>& trace_formats() {
  static std::map<std::string, TraceFormat> table;
  return table;
}

bool register_trace_format(const std::string& name, TraceFormat format) {
  if (!trace_formats().emplace(name, std::move(format)).second) {
    std::fprintf(stderr, "kunsim: trace format \"%s\" registered twice\n", name.c_str());
    std::abort();
  }
  return true;
}

std::unique_ptr<ArrivalSource> open_trace(const std::string& format, const std::string& path,
                                          const std::string& json_path) {
  auto it = trace_formats().find(format);
  if (it == trace_formats().end()) {
    std::string known;
    for (const auto& [n, f] : trace_formats()) known += (known.empty() ? "" : ", ") + n;
    throw InputError(json_path + ": unknown trace format \"" + format + "\" (known: " + known + ")");
  }
  return it->second.open(path);
}

std::string detect_trace_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open trace file");
  std::string first;
  std::getline(in, first);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  for (const auto& [name, f] : trace_formats())
    if (f.matches(first)) return name;
  throw InputError(path + ":1: unrecognised trace header (give the format with --format)");
}

}  // namespace kunsim
