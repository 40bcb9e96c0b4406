// vidur processed trace: arrived_at (seconds),num_prefill_tokens,num_decode_tokens.
#include "traces/trace_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

class VidurTrace final : public TraceFile {
 public:
  using TraceFile::TraceFile;

 private:
  bool parse_header(std::string_view line) override {
    if (line.rfind("arrived_at", 0) != 0) return false;
    split_csv(line, 3);
    return true;
  }
  bool parse_row(std::string_view line, TraceRequest& out) override {
    const auto& f = split_csv(line, 3);
    out.arrival = parse_seconds(f[0], "arrived_at");
    return tokens(f[1], f[2], out);
  }
};

}  // namespace

KUNSIM_REGISTER_TRACE(vidur, "vidur",
                      "vidur processed CSV (arrived_at,num_prefill_tokens,num_decode_tokens)",
                      (TraceFormat{[](const std::string& p) { return std::make_unique<VidurTrace>(p); },
                                   [](const std::string& l) { return l.rfind("arrived_at,", 0) == 0; }}));

}  // namespace kunsim
