// `kunsim trace-stats TRACE`: a trace summarised as a workload profile (rates, burstiness,
// lengths, prefix reuse), which a scenario can replay without the trace.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "sim/core/output_folder.hpp"
#include "traces/trace_format_registry.hpp"
#include "traces/workload_profile.hpp"

namespace kunsim {

CommandRunner add_trace_stats_command(CLI::App& app) {
  struct Args {
    std::string trace, format, out;
    double window_s = 60;
  };
  auto a = std::make_shared<Args>();
  auto* stats = app.add_subcommand("trace-stats", "Summarise a trace as a workload profile (JSON on stdout)");
  stats->add_option("trace", a->trace, "Trace file")->required();
  stats->add_option("--format", a->format, "Trace format (default: detected from the header)");
  stats->add_option("--window-s", a->window_s, "Window for rate and burstiness, seconds")->check(CLI::PositiveNumber);
  stats->add_option("--out", a->out, "Write the profile here instead of stdout")->check(kOutputPath);
  return [a](const CommandContext&) {
    const std::string fmt_name = a->format.empty() ? detect_trace_format(a->trace) : a->format;
    auto src = open_trace(fmt_name, a->trace, "--format");
    const WorkloadProfile p = compute_profile(*src, a->window_s, std::filesystem::path(a->trace).filename().string());
    const std::string text = p.to_json().dump(1) + "\n";
    if (a->out.empty())
      std::fputs(text.c_str(), stdout);
    else
      write_file_atomic(a->out, text);
    return 0;
  };
}

}  // namespace kunsim
