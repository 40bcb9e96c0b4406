// TraceFormatRegistry: the table of trace file formats by name (`workload.trace.format`). A
// new format is one file in traces/ with a TraceFile subclass and a KUNSIM_REGISTER_TRACE line.
// `detect` guesses the format of a file from its header, for `kunsim trace-stats`.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "sim/core/registry.hpp"
#include "traces/arrival_source.hpp"

namespace kunsim {

struct TraceFormat {
  std::function<std::unique_ptr<ArrivalSource>(const std::string& path)> open;
  std::function<bool(const std::string& first_line)> matches;  // header sniffing
};

Registry<TraceFormat>& trace_formats();
std::unique_ptr<ArrivalSource> open_trace(const std::string& format, const std::string& path, const std::string& json_path);
// The format whose header matches the file's first line; InputError if none does.
std::string detect_trace_format(const std::string& path);

}  // namespace kunsim

#define KUNSIM_REGISTER_TRACE(ident, name, description, format) \
  KUNSIM_REGISTER(::kunsim::trace_formats, trace_##ident, name, description, format)
