// TraceFormatRegistry: the table of trace file formats by name (`workload.trace.format`). A
// new format is one file in traces/ with a TraceFile subclass and a KUNSIM_REGISTER_TRACE line.
// `detect` guesses the format of a file from its header, for `kunsim trace-stats`.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "traces/arrival_source.hpp"

namespace kunsim {

struct TraceFormat {
  std::string description;
  std::function<std::unique_ptr<ArrivalSource>(const std::string& path)> open;
  std::function<bool(const std::string& first_line)> matches;  // header sniffing
};

std::map<std::string, TraceFormat>& trace_formats();
bool register_trace_format(const std::string& name, TraceFormat format);
std::unique_ptr<ArrivalSource> open_trace(const std::string& format, const std::string& path, const std::string& json_path);
// The format whose header matches the file's first line; InputError if none does.
std::string detect_trace_format(const std::string& path);

}  // namespace kunsim

#define KUNSIM_REGISTER_TRACE(ident, name, format) \
  static const bool kunsim_trace_registered_##ident = ::kunsim::register_trace_format(name, format)
