#include "traces/trace_format_registry.hpp"

#include <fstream>

#include "sim/core/input_error.hpp"
#include "sim/core/input_file.hpp"

namespace kunsim {

Registry<TraceFormat>& trace_formats() {
  static Registry<TraceFormat> table("trace format");
  return table;
}

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in = open_input_file(path, "trace");
  std::string first;
  std::getline(in, first);
  if (!first.empty() && first.back() == '\r') first.pop_back();
  if (first.size() >= 3 && static_cast<unsigned char>(first[0]) == 0xEF) first.erase(0, 3);  // UTF-8 BOM
  return first;
}

}  // namespace

std::unique_ptr<ArrivalSource> open_trace(const std::string& format, const std::string& path,
                                          const std::string& json_path) {
  const TraceFormat& declared = trace_formats().at(format, json_path);
  // A file whose first line is another format's, and not the declared one's, was given the wrong
  // format: say which it looks like, instead of the declared reader's parse error on line 1.
  const std::string first = first_line(path);
  if (!declared.matches(first))
    for (const auto& [name, f] : trace_formats().items())
      if (f.entry.matches(first))
        throw InputError(json_path + ": \"" + format + "\", but " + path + " looks like a " + name + " trace (" +
                         f.help + ")");
  return declared.open(path);
}

std::string detect_trace_format(const std::string& path) {
  const std::string first = first_line(path);
  for (const auto& [name, f] : trace_formats().items())
    if (f.entry.matches(first)) return name;
  throw InputError(path + ":1: unrecognised trace header (give the format with --format)");
}

}  // namespace kunsim
