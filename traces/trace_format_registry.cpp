#include "traces/trace_format_registry.hpp"

#include <fstream>

#include "sim/core/input_error.hpp"
#include "sim/core/input_file.hpp"

namespace kunsim {

Registry<TraceFormat>& trace_formats() {
  static Registry<TraceFormat> table("trace format");
  return table;
}

std::unique_ptr<ArrivalSource> open_trace(const std::string& format, const std::string& path,
                                          const std::string& json_path) {
  return trace_formats().at(format, json_path).open(path);
}

std::string detect_trace_format(const std::string& path) {
  std::ifstream in = open_input_file(path, "trace");
  std::string first;
  std::getline(in, first);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  for (const auto& [name, f] : trace_formats().items())
    if (f.entry.matches(first)) return name;
  throw InputError(path + ":1: unrecognised trace header (give the format with --format)");
}

}  // namespace kunsim
