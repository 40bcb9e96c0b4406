#include "calibrate/grid.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>
#include <string>

namespace kunsim::calibrate {

int Composition::tokens() const {
  int t = static_cast<int>(decode_lens.size());
  for (const auto& c : prefills) t += c.tokens;
  return t;
}

std::int64_t Composition::decode_keys() const {
  return std::accumulate(decode_lens.begin(), decode_lens.end(), std::int64_t{0});
}

namespace {

// `batch` lengths summing to batch * mean: one sequence holds a quarter of the keys (at most
// 32k), the rest share what remains.
std::vector<int> one_long(int batch, int mean) {
  const std::int64_t total = static_cast<std::int64_t>(batch) * mean;
  const int longest = static_cast<int>(std::min<std::int64_t>(32768, total / 4));
  std::vector<int> lens(batch, std::max(16, static_cast<int>((total - longest) / (batch - 1))));
  lens[0] = longest;
  return lens;
}

// Lengths proportional to 2^(i mod 8), scaled to the same total.
std::vector<int> spread(int batch, int mean) {
  std::vector<double> w(batch);
  for (int i = 0; i < batch; ++i) w[i] = static_cast<double>(1 << (i % 8));
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<int> lens(batch);
  for (int i = 0; i < batch; ++i)
    lens[i] = std::clamp(static_cast<int>(w[i] / sum * batch * mean), 1, 32768);
  return lens;
}

}  // namespace

Grid Grid::make(bool quick, std::int64_t max_decode_keys) {
  Grid g;
  if (quick) {
    g.tokens = {1, 16, 128, 512, 2048};
    g.lm_rows = {1, 32, 256};
    for (int c : {64, 512})
      for (int x : {0, 1024, 4096}) g.prefill.emplace_back(c, x);
    for (int b : {1, 16, 64})
      for (int len : {128, 2048}) g.decode.push_back(std::vector<int>(b, len));
    g.decode.push_back(one_long(16, 2048));
    g.decode.push_back(spread(16, 2048));
    g.mixed = {{{{0, 512}}, std::vector<int>(16, 1024)}, {{{2048, 256}}, std::vector<int>(64, 512)}};
    g.iterations = {{{}, std::vector<int>(16, 1024)}, {{{0, 512}}, {}}, {{{0, 256}}, std::vector<int>(32, 512)}};
    g.transfer_bytes = {1 << 16, 1 << 22, 1 << 26};
    return g;
  }
  g.tokens = {1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096,
              6144, 8192, 12288, 16384};
  g.lm_rows = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
  for (int c : {16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192})
    for (int x : {0, 256, 1024, 2048, 4096, 8192, 16384, 32768}) g.prefill.emplace_back(c, x);
  for (int b : {1, 2, 4, 8, 16, 32, 64, 128, 256})
    for (int len : {16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768})
      if (static_cast<std::int64_t>(b) * len <= max_decode_keys) g.decode.push_back(std::vector<int>(b, len));
  for (int b : {4, 16, 64, 256})
    for (int mean : {512, 2048, 8192})
      if (static_cast<std::int64_t>(b) * mean <= max_decode_keys) {
        g.decode.push_back(one_long(b, mean));
        g.decode.push_back(spread(b, mean));
      }
  for (int chunk : {256, 1024, 2048})
    for (int ctx : {0, 2048})
      for (int b : {16, 64, 256})
        for (int len : {512, 2048})
          if (static_cast<std::int64_t>(b) * len + ctx + chunk <= max_decode_keys)
            g.mixed.push_back({{{ctx, chunk}}, std::vector<int>(b, len)});
  for (int b : {1, 8, 32, 64, 128, 256})
    for (int len : {512, 2048}) g.iterations.push_back({{}, std::vector<int>(b, len)});
  for (int c : {128, 512, 2048, 8192}) g.iterations.push_back({{{0, c}}, {}});
  g.iterations.push_back({{{4096, 2048}}, {}});
  g.iterations.push_back({{{0, 512}}, std::vector<int>(32, 1024)});
  g.iterations.push_back({{{2048, 2048}}, std::vector<int>(128, 512)});
  g.iterations.push_back({{{0, 256}}, std::vector<int>(256, 2048)});
  g.iterations.push_back({{{1024, 1024}}, std::vector<int>(64, 4096)});
  for (std::int64_t b = 1 << 12; b <= (1 << 30); b *= 4) g.transfer_bytes.push_back(b);
  return g;
}

namespace {

std::vector<int> positive_ints(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) throw std::invalid_argument(where + ": expected an array of positive integers");
  std::vector<int> out;
  for (const auto& v : j) {
    if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() > (1 << 30))
      throw std::invalid_argument(where + ": expected an array of positive integers");
    out.push_back(v.get<int>());
  }
  return out;
}

Composition composition(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::invalid_argument(where + ": expected {\"prefill\": [[context, tokens]], \"decode\": [..]}");
  Composition c;
  if (j.contains("prefill"))
    for (const auto& p : j.at("prefill")) {
      const std::vector<int> v = positive_ints(p, where + ".prefill");
      if (v.size() != 2 || v[1] < 1) throw std::invalid_argument(where + ".prefill: expected [context, tokens]");
      c.prefills.push_back({v[0], v[1]});
    }
  if (j.contains("decode")) c.decode_lens = positive_ints(j.at("decode"), where + ".decode");
  for (int d : c.decode_lens)
    if (d < 1) throw std::invalid_argument(where + ".decode: a decode attends at least its own token");
  if (c.prefills.size() > 1) throw std::invalid_argument(where + ".prefill: at most one chunk (the profile format holds one)");
  if (c.tokens() == 0) throw std::invalid_argument(where + ": an empty batch");
  return c;
}

}  // namespace

Grid Grid::from_json(const std::string& text, const std::string& where) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument(where + ": not a JSON object");
  Grid g;
  for (const auto& [key, value] : j.items()) {
    const std::string at = where + ": " + key;
    if (key == "tokens") g.tokens = positive_ints(value, at);
    else if (key == "lm_rows") g.lm_rows = positive_ints(value, at);
    else if (key == "transfer_bytes")
      for (int b : positive_ints(value, at)) g.transfer_bytes.push_back(b);
    else if (key == "prefill")
      for (const auto& p : value) {
        const std::vector<int> v = positive_ints(p, at);
        if (v.size() != 2 || v[0] < 1) throw std::invalid_argument(at + ": expected [chunk, context] pairs");
        g.prefill.emplace_back(v[0], v[1]);
      }
    else if (key == "decode")
      for (const auto& d : value) g.decode.push_back(positive_ints(d, at));
    else if (key == "mixed")
      for (const auto& c : value) g.mixed.push_back(composition(c, at));
    else if (key == "iterations")
      for (const auto& c : value) g.iterations.push_back(composition(c, at));
    else
      throw std::invalid_argument(at + ": unknown key (tokens, lm_rows, prefill, decode, mixed, iterations, transfer_bytes)");
  }
  for (int t : g.tokens)
    if (t < 1) throw std::invalid_argument(where + ": tokens: counts start at 1");
  return g;
}

int Grid::max_tokens() const {
  int m = 1;
  for (int t : tokens) m = std::max(m, t);
  for (int r : lm_rows) m = std::max(m, r);
  for (const auto& [chunk, ctx] : prefill) m = std::max(m, chunk);
  for (const auto& d : decode) m = std::max(m, static_cast<int>(d.size()));
  for (const auto* set : {&mixed, &iterations})
    for (const auto& c : *set) m = std::max(m, c.tokens());
  return m;
}

}  // namespace kunsim::calibrate
