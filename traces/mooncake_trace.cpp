// Mooncake (FAST'25) JSONL: {"timestamp": ms, "input_length": n, "output_length": n,
// "hash_ids": [...]} per line, one hash id per 512-token block of the prompt (prefix identity).
#include <nlohmann/json.hpp>

#include "traces/prefix_keys.hpp"
#include "traces/trace_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

class MooncakeTrace final : public TraceFile {
 public:
  using TraceFile::TraceFile;

 private:
  static constexpr int kHashBlockTokens = 512;
  std::vector<std::uint64_t> ids_;
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
    out.prefix.clear();
    if (j.contains("hash_ids")) {
      const auto& ids = j["hash_ids"];
      if (!ids.is_array()) fail("\"hash_ids\": expected an array of integers");
      ids_.clear();
      for (const auto& v : ids) {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0) fail("\"hash_ids\": expected non-negative integers");
        ids_.push_back(v.get<std::uint64_t>());
      }
      out.prefix = prefix_keys(ids_, out.prompt, kHashBlockTokens);
      out.prefix_block_tokens = kHashBlockTokens;
    }
    return out.prompt > 0 && out.output > 0;
  }
};

}  // namespace

KUNSIM_REGISTER_TRACE(mooncake, "mooncake",
                      "Mooncake FAST'25 JSONL (timestamp ms, input_length, output_length, hash_ids per 512 tokens)",
                      (TraceFormat{[](const std::string& p) { return std::make_unique<MooncakeTrace>(p); },
                                   [](const std::string& l) { return !l.empty() && l[0] == '{' && l.find("\"timestamp\"") != std::string::npos; }}));

}  // namespace kunsim
