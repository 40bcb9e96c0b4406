#include "traces/prefix_reuse.hpp"

#include <algorithm>
#include <cmath>

#include "traces/length_distribution.hpp"

namespace kunsim {

namespace {
double round4(double x) { return std::round(x * 1e4) / 1e4; }
double quantile(std::vector<std::int64_t> v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return static_cast<double>(v[k]);
}
}  // namespace

// Fenwick tree over access positions (1-based inside), grown as accesses come.
void PrefixReuseMeter::mark(std::int64_t i, int d) {
  for (std::int64_t x = i + 1; x <= static_cast<std::int64_t>(fenwick_.size()); x += x & -x) fenwick_[x - 1] += d;
  live_ += d;
}

std::int64_t PrefixReuseMeter::marked_after(std::int64_t i) const {
  std::int64_t upto = 0;  // marks at positions <= i
  for (std::int64_t x = i + 1; x > 0; x -= x & -x) upto += fenwick_[x - 1];
  return live_ - upto;
}

void PrefixReuseMeter::add(const TraceRequest& r) {
  if (r.prefix.empty() && r.prefix_block_tokens == 0) return;
  block_tokens_ = r.prefix_block_tokens;
  ++requests_;
  prompt_tokens_ += r.prompt;
  bool leading = true;
  for (std::size_t k = 0; k < r.prefix.size(); ++k) {
    const std::uint64_t key = r.prefix[k];
    // Grow the tree by doubling (rebuilt: a Fenwick tree cannot simply be extended).
    if (accesses_ >= static_cast<std::int64_t>(fenwick_.size())) {
      std::vector<std::int32_t> flat(fenwick_.size());
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(fenwick_.size()); ++i)
        flat[i] = static_cast<std::int32_t>(marked_after(i - 1) - marked_after(i));
      fenwick_.assign(std::max<std::size_t>(1024, fenwick_.size() * 2), 0);
      live_ = 0;
      for (std::int64_t i = 0; i < static_cast<std::int64_t>(flat.size()); ++i)
        if (flat[i]) mark(i, flat[i]);
    }
    auto it = last_.find(key);
    if (it != last_.end()) {
      if (leading) {
        ++hit_blocks_;
        distances_.push_back(marked_after(it->second.first));
        if (k == 0) {
          ++continued_;
          back_.push_back(requests_ - 1 - it->second.second);
        }
      }
      mark(it->second.first, -1);
      it->second = {accesses_, requests_ - 1};
    } else {
      leading = false;
      last_.emplace(key, std::pair{accesses_, requests_ - 1});
    }
    mark(accesses_, +1);
    ++accesses_;
  }
}

std::optional<PrefixReuse> PrefixReuseMeter::result() const {
  if (requests_ == 0) return std::nullopt;
  PrefixReuse p;
  p.requests = requests_;
  p.hash_block_tokens = block_tokens_;
  p.prompt_tokens = prompt_tokens_;
  p.hit_tokens = hit_blocks_ * block_tokens_;
  p.hit_rate = prompt_tokens_ ? round4(static_cast<double>(p.hit_tokens) / static_cast<double>(prompt_tokens_)) : 0;
  p.continued_share = round4(static_cast<double>(continued_) / static_cast<double>(requests_));
  p.requests_back_p50 = quantile(back_, 0.5);
  for (double q : {0.1, 0.5, 0.9, 0.99}) p.distance_tokens.push_back(quantile(distances_, q) * block_tokens_);
  std::vector<std::int64_t> sorted = distances_;
  std::sort(sorted.begin(), sorted.end());
  for (double tokens : {1e5, 1e6, 1e7, 1e8}) {
    const auto within = std::lower_bound(sorted.begin(), sorted.end(), static_cast<std::int64_t>(tokens / block_tokens_)) -
                        sorted.begin();
    p.hit_rate_by_cache_tokens.emplace_back(
        tokens, prompt_tokens_ ? round4(static_cast<double>(within * block_tokens_) / static_cast<double>(prompt_tokens_)) : 0);
  }
  return p;
}

Json PrefixReuse::to_json() const {
  Json by = Json::array();
  for (auto [t, h] : hit_rate_by_cache_tokens) by.push_back({{"cache_tokens", t}, {"hit_rate", h}});
  return {{"requests", requests},
          {"hash_block_tokens", hash_block_tokens},
          {"prompt_tokens", prompt_tokens},
          {"hit_tokens", hit_tokens},
          {"hit_rate", hit_rate},
          {"continued_share", continued_share},
          {"requests_back_p50", requests_back_p50},
          {"reuse_distance_tokens", {{"p10", distance_tokens.at(0)}, {"p50", distance_tokens.at(1)},
                                     {"p90", distance_tokens.at(2)}, {"p99", distance_tokens.at(3)}}},
          {"lru_hit_rate", by}};
}

namespace {
// Lengths only, one request a second: what the calibration of fitted_sharing draws.
class LengthsOnly final : public ArrivalSource {
 public:
  LengthsOnly(const std::vector<double>& in, const std::vector<double>& out, std::int64_t n)
      : in_(LengthDistribution::quantiles(in)), out_(LengthDistribution::quantiles(out)), left_(n) {}
  std::optional<TraceRequest> next() override {
    if (left_-- <= 0) return std::nullopt;
    TraceRequest r;
    r.arrival = at_seconds(static_cast<double>(t_++));
    r.prompt = std::max(1, in_.sample(rng_));
    r.output = std::max(1, out_.sample(rng_));
    return r;
  }
  std::string describe() const override { return "calibration"; }

 private:
  LengthDistribution in_, out_;
  std::int64_t left_, t_ = 0;
  Rng rng_{0xF17};
};
}  // namespace

PrefixSharing PrefixReuse::fitted_sharing(const std::vector<double>& input_quantiles,
                                          const std::vector<double>& output_quantiles) const {
  PrefixSharing s;
  s.hash_block_tokens = hash_block_tokens;
  if (continued_share <= 0) return s;
  // The share of turns that try to continue, and the pool they pick from, are raised until a
  // drawn stream continues as often and reaches as far back as the trace (a few rounds).
  double attempt = std::min(continued_share, 0.999), pool = std::max(1.0, requests_back_p50);
  const std::int64_t n = std::clamp<std::int64_t>(requests, 2000, 20000);
  for (int round = 0; round < 8; ++round) {
    s.session_turns = round4(1.0 / (1.0 - attempt));
    s.open_sessions = static_cast<int>(std::clamp(std::round(pool), 1.0, static_cast<double>(1 << 20)));
    auto drawn = with_prefix_sharing(std::make_unique<LengthsOnly>(input_quantiles, output_quantiles, n), s, Rng(0x5EED));
    PrefixReuseMeter meter;
    while (auto r = drawn->next()) meter.add(*r);
    const std::optional<PrefixReuse> got = meter.result();
    if (!got || got->continued_share <= 0) break;
    attempt = std::min(0.999, attempt * continued_share / got->continued_share);
    if (got->requests_back_p50 > 0) pool = pool * std::max(1.0, requests_back_p50) / got->requests_back_p50;
  }
  return s;
}

}  // namespace kunsim
