#include "sim/metrics/bench_peaks.hpp"

#include <algorithm>
#include <cmath>

namespace kunsim {

void BenchPeaks::completed(std::uint64_t id, double start, double first, double end, int tokens) {
  const Span s{start, first, end, tokens};
  if (settled_) {
    buckets_.add(s);
    return;
  }
  pending_.push_back(s);
  if (id < origin_id_) {
    origin_id_ = id;
    origin_start_ = start;
  }
  ended_id(id);
}

void BenchPeaks::ended(std::uint64_t id) {
  if (!settled_) ended_id(id);
}

void BenchPeaks::ended_id(std::uint64_t id) {
  if (id < lowest_open_) return;  // not an id in arrival order (a test's hand-made request)
  const std::uint64_t at = id - lowest_open_;
  if (at >= ended_.size()) ended_.resize(at + 1, 0);
  ended_[at] = 1;
  std::size_t done = 0;
  while (done < ended_.size() && ended_[done]) ++done;
  if (done > 0) {
    ended_.erase(ended_.begin(), ended_.begin() + static_cast<std::ptrdiff_t>(done));
    lowest_open_ += done;
  }
  if (lowest_open_ > origin_id_) settle();
}

void BenchPeaks::settle() {
  settled_ = true;
  buckets_.t0 = origin_start_;
  for (const Span& s : pending_) buckets_.add(s);
  pending_ = {};
  ended_ = {};
}

void BenchPeaks::Buckets::add(const Span& s) {
  auto bucket = [&](double t) { return static_cast<std::size_t>(std::max(0.0, t - t0)); };
  const std::size_t from = bucket(s.first), to = bucket(s.end);  // first <= end: from <= to
  if (tokens.size() <= to) tokens.resize(to + 1, 0.0);
  if (active.size() <= to + 1) active.resize(to + 2, 0);
  ++active[bucket(s.start)];
  --active[to + 1];
  tokens[from] += 1;
  // Tokens 2..n at first + k (end - first) / (n - 1), k = 1..n-1, counted per bucket they span:
  // those before the bucket's end less those before its start; the last bucket takes the rest.
  const int rest = s.tokens - 1;
  if (rest <= 0) return;
  const double step = (s.end - s.first) / rest;
  if (step <= 0 || from == to) {
    tokens[from] += rest;
    return;
  }
  auto before = [&](double t) { return std::clamp(static_cast<int>(std::ceil((t - s.first) / step)) - 1, 0, rest); };
  int counted = 0;
  for (std::size_t b = from; b < to; ++b) {
    const int upto = before(t0 + static_cast<double>(b + 1));
    tokens[b] += upto - counted;
    counted = upto;
  }
  tokens[to] += rest - counted;
}

BenchPeaks::Peaks BenchPeaks::Buckets::peaks() const {
  Peaks p;
  std::int64_t now = 0;
  for (std::size_t b = 0; b < std::max(tokens.size(), active.size()); ++b) {
    if (b < active.size()) now += active[b];
    p.concurrent_requests = std::max(p.concurrent_requests, now);
    if (b < tokens.size()) p.output_tokens_per_s = std::max(p.output_tokens_per_s, tokens[b]);
  }
  return p;
}

BenchPeaks::Peaks BenchPeaks::peaks() const {
  if (settled_) return buckets_.peaks();
  if (pending_.empty()) return {};
  // Not settled (a request sent before the first completed one has not ended, or ids not in
  // arrival order): from the earliest start among those completed.
  Buckets b;
  b.t0 = pending_[0].start;
  for (const Span& s : pending_) b.t0 = std::min(b.t0, s.start);
  for (const Span& s : pending_) b.add(s);
  return b.peaks();
}

}  // namespace kunsim
