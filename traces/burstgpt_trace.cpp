// BurstGPT CSV: Timestamp (seconds from trace start),Model,Request tokens,Response tokens,
// Total tokens,Log Type. Failed requests are logged with zero response tokens: they are
// skipped and counted, since they never occupied a serving engine.
#include "traces/trace_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

class BurstGptTrace final : public TraceFile {
 public:
  using TraceFile::TraceFile;

 private:
  bool parse_header(std::string_view line) override {
    if (line.rfind("Timestamp", 0) != 0) return false;
    split_csv(line, 6);
    return true;
  }
  bool parse_row(std::string_view line, TraceRequest& out) override {
    const auto& f = split_csv(line, 6);
    out.arrival = parse_seconds(f[0], "Timestamp");
    const bool ok = tokens(f[2], f[3], out);
    const auto total = parse_int(f[4], "Total tokens", 0, 20'000'000);
    if (total != std::int64_t{out.prompt} + out.output)
      fail("Total tokens (" + std::to_string(total) + ") is not Request + Response tokens");
    return ok;
  }
};

}  // namespace

KUNSIM_REGISTER_TRACE(burstgpt, "burstgpt",
                      "BurstGPT CSV (Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type)",
                      (TraceFormat{[](const std::string& p) { return std::make_unique<BurstGptTrace>(p); },
                                   [](const std::string& l) { return l.rfind("Timestamp,Model,", 0) == 0; }}));

}  // namespace kunsim
