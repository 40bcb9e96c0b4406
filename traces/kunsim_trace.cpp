// kunsim's own JSONL: what a gateway can log, with prefix identity. A header line states the
// hash block size, then one request per line:
//   {"format": "kunsim-requests", "hash_block_tokens": 64}
//   {"arrival_s": 0.25, "input_tokens": 812, "output_tokens": 64, "hash_ids": [7, 8], "session": "u42"}
// hash_ids (optional) name the prompt's hash blocks in order (a chain: equal leading ids mean a
// shared prefix); session (optional, a string) groups a conversation's turns; acceptance
// (optional, in [0, 1]) is the request's per-token draft acceptance under speculative decoding,
// so that one trace can mix workloads that speculate well (code) and less well (chat).
#include <nlohmann/json.hpp>

#include "traces/prefix_keys.hpp"
#include "traces/trace_file.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

class KunsimTrace final : public TraceFile {
 public:
  using TraceFile::TraceFile;

 private:
  nlohmann::json object(std::string_view line) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(std::string("malformed JSON line (") + e.what() + ")");
    }
    if (!j.is_object()) fail("expected a JSON object per line");
    return j;
  }
  std::int64_t integer(const nlohmann::json& j, const char* key, std::int64_t lo, std::int64_t hi) {
    const auto it = j.find(key);
    if (it == j.end()) fail(std::string("missing \"") + key + "\"");
    if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi)
      fail(std::string("\"") + key + "\": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
           "], got " + it->dump().substr(0, 40));
    return it->get<std::int64_t>();
  }

  bool parse_header(std::string_view line) override {
    const nlohmann::json j = object(line);
    if (j.value("format", "") != "kunsim-requests") fail("expected the header {\"format\": \"kunsim-requests\", ...}");
    block_tokens_ = static_cast<int>(integer(j, "hash_block_tokens", 1, 1 << 20));
    return true;
  }

  bool parse_row(std::string_view line, TraceRequest& out) override {
    const nlohmann::json j = object(line);
    const auto at = j.find("arrival_s");
    const auto arrival = at != j.end() && at->is_number() ? checked_seconds(at->get<double>()) : std::nullopt;
    if (!arrival) fail("\"arrival_s\": expected seconds in [0, 1e9]");
    out.arrival = kSimTimeZero + *arrival;
    out.prompt = static_cast<int>(integer(j, "input_tokens", 0, 10'000'000));
    out.output = static_cast<int>(integer(j, "output_tokens", 0, 10'000'000));
    out.prefix.clear();
    out.session = 0;
    out.acceptance = -1;
    if (const auto a = j.find("acceptance"); a != j.end()) {
      if (!a->is_number() || a->get<double>() < 0 || a->get<double>() > 1)
        fail("\"acceptance\": expected a number in [0, 1]");
      out.acceptance = a->get<double>();
    }
    if (const auto s = j.find("session"); s != j.end()) {
      if (!s->is_string()) fail("\"session\": expected a string");
      std::uint64_t h = 0xCBF29CE484222325ULL;  // FNV-1a: the same on every platform
      for (unsigned char c : s->get<std::string>()) h = (h ^ c) * 0x100000001B3ULL;
      out.session = h | 1;
    }
    if (const auto h = j.find("hash_ids"); h != j.end()) {
      if (!h->is_array()) fail("\"hash_ids\": expected an array of integers");
      ids_.clear();
      for (const auto& v : *h) {
        if (!v.is_number_integer() || v.get<std::int64_t>() < 0) fail("\"hash_ids\": expected non-negative integers");
        ids_.push_back(v.get<std::uint64_t>());
      }
      out.prefix = prefix_keys(ids_, out.prompt, block_tokens_);
      out.prefix_block_tokens = block_tokens_;
    }
    return out.prompt > 0 && out.output > 0;
  }

  int block_tokens_ = 0;
  std::vector<std::uint64_t> ids_;
};

}  // namespace

KUNSIM_REGISTER_TRACE(kunsim, "kunsim",
                      "kunsim JSONL (a header with hash_block_tokens; arrival_s, input_tokens, output_tokens, "
                      "optional hash_ids and session)",
                      (TraceFormat{[](const std::string& p) { return std::make_unique<KunsimTrace>(p); },
                                   [](const std::string& l) { return l.find("\"kunsim-requests\"") != std::string::npos; }}));

}  // namespace kunsim
