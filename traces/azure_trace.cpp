// Azure LLM inference trace (2023, Splitwise): TIMESTAMP,ContextTokens,GeneratedTokens with
// absolute wall-clock timestamps `YYYY-MM-DD HH:MM:SS.fffffff` (100 ns ticks).
#include "traces/trace_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t days_in_month(std::int64_t y, unsigned m) {
  return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - days_from_civil(y, m, 1);
}

class AzureTrace final : public TraceFile {
 public:
  using TraceFile::TraceFile;

 private:
  bool parse_header(std::string_view line) override {
    if (line.rfind("TIMESTAMP", 0) != 0) return false;
    split_csv(line, 3);
    return true;
  }
  bool parse_row(std::string_view line, TraceRequest& out) override {
    const auto& f = split_csv(line, 3);
    out.arrival = parse_timestamp(f[0]);
    return tokens(f[1], f[2], out);
  }
  SimTime parse_timestamp(std::string_view ts) const {
    // 2023-11-16 18:17:03.9799600
    if (ts.size() < 19 || ts[4] != '-' || ts[7] != '-' || (ts[10] != ' ' && ts[10] != 'T') || ts[13] != ':' ||
        ts[16] != ':')
      fail("TIMESTAMP: expected YYYY-MM-DD HH:MM:SS[.fraction], got \"" + std::string(ts.substr(0, 40)) + "\"");
    // Years to 2200 keep nanoseconds since 1970 inside int64 (which ends in 2262).
    const auto y = parse_int(ts.substr(0, 4), "TIMESTAMP year", 1970, 2200);
    const auto mo = parse_int(ts.substr(5, 2), "TIMESTAMP month", 1, 12);
    const auto d = parse_int(ts.substr(8, 2), "TIMESTAMP day", 1, days_in_month(y, static_cast<unsigned>(mo)));
    const auto h = parse_int(ts.substr(11, 2), "TIMESTAMP hour", 0, 23);
    const auto mi = parse_int(ts.substr(14, 2), "TIMESTAMP minute", 0, 59);
    const auto s = parse_int(ts.substr(17, 2), "TIMESTAMP second", 0, 60);
    std::int64_t frac_ns = 0;
    if (ts.size() > 19) {
      if (ts[19] != '.' || ts.size() == 20 || ts.size() > 29) fail("TIMESTAMP: bad fraction of a second");
      std::string digits(ts.substr(20));
      digits.resize(9, '0');
      frac_ns = parse_int(digits, "TIMESTAMP fraction", 0, 999'999'999);
    }
    const std::int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                              h * 3600 + mi * 60 + s;
    return SimTime::from_ns(secs * kNsPerSecond.ns() + frac_ns);
  }
};

}  // namespace

KUNSIM_REGISTER_TRACE(azure, "azure",
                      "Azure LLM inference 2023 CSV (TIMESTAMP,ContextTokens,GeneratedTokens)",
                      (TraceFormat{[](const std::string& p) { return std::make_unique<AzureTrace>(p); },
                                   [](const std::string& l) { return l.rfind("TIMESTAMP,ContextTokens", 0) == 0; }}));

}  // namespace kunsim
