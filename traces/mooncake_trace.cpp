// Mooncake (FAST'25) JSONL: {"timestamp": ms, "input_length": n, "output_length": n,
// "hash_ids": [...]} per line. Prefix hashes are read past: kunsim does not model prefix caching.
#include <nlohmann/json.hpp>

#include "traces/trace_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

class MooncakeTrace final : public TraceFile {
 public:
  using TraceFile::TraceFile;

 private:
  bool parse_header(std::string_view) override { return false; }
  bool parse_row(std::string_view line, TraceRequest& out) override {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // syntax, or a number too large to hold
      fail(std::string("malformed JSON line (") + e.what() + ")");
    }
    if (!j.is_object()) fail("expected a JSON object per line");
    auto get = [&](const char* key, std::int64_t hi) -> std::int64_t {
      if (!j.contains(key)) fail(std::string("missing \"") + key + "\"");
      const auto& v = j[key];
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 || v.get<std::int64_t>() > hi)
        fail(std::string("\"") + key + "\": expected an integer in [0, " + std::to_string(hi) + "], got " +
             v.dump().substr(0, 40));
      return v.get<std::int64_t>();
    };
    out.arrival = SimTime::from_ns(get("timestamp", 10'000'000'000LL) * 1'000'000);
    out.prompt = static_cast<int>(get("input_length", 10'000'000));
    out.output = static_cast<int>(get("output_length", 10'000'000));
    return out.prompt > 0 && out.output > 0;
  }
};

}  // namespace

KUNSIM_REGISTER_TRACE(mooncake, "mooncake",
                      "Mooncake FAST'25 JSONL (timestamp ms, input_length, output_length)",
                      (TraceFormat{[](const std::string& p) { return std::make_unique<MooncakeTrace>(p); },
                                   [](const std::string& l) { return !l.empty() && l[0] == '{'; }}));

}  // namespace kunsim
