#include "calibrate/grid.hpp"

#include <algorithm>
#include <numeric>

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

}  // namespace kunsim::calibrate
