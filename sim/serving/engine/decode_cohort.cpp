#include "sim/serving/engine/decode_cohort.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace kunsim {

DecodeCohort::DecodeCohort(int block_size, int lanes)
    : bs_(block_size), ves_(lanes), lanes_(static_cast<std::size_t>(lanes)) {
  for (int v = 0; v < ves_; ++v) {
    lanes_[static_cast<std::size_t>(v)].ve = v;
    lanes_[static_cast<std::size_t>(v)].phase_count.assign(static_cast<std::size_t>(block_size), 0);
  }
}

DecodeCohort::Lane& DecodeCohort::lane_of_rate(const Request* r) {
  if (r->ve < 0 || r->ve >= ves_) throw std::logic_error("DecodeCohort: a decode without a virtual engine");
  for (std::size_t i = static_cast<std::size_t>(r->ve); i < lanes_.size(); i += static_cast<std::size_t>(ves_))
    if (lanes_[i].rate == r->emit_rate) return lanes_[i];
  if (r->emit_rate < kOneToken) throw std::logic_error("DecodeCohort: a decode emitting less than a token a step");
  // A rate not seen here yet: a lane for it on every virtual engine, starting at its own clock.
  for (int v = 0; v < ves_; ++v) {
    Lane l;
    l.ve = v;
    l.rate = r->emit_rate;
    l.sitting = lanes_[static_cast<std::size_t>(v)].sitting;
    l.phase_count.assign(static_cast<std::size_t>(bs_), 0);
    lanes_.push_back(std::move(l));
  }
  one_rate_ = false;
  return lanes_[lanes_.size() - static_cast<std::size_t>(ves_) + static_cast<std::size_t>(r->ve)];
}

const DecodeCohort::Lane& DecodeCohort::lane_of(const Request* r) const {
  for (std::size_t i = static_cast<std::size_t>(r->ve); r->ve >= 0 && i < lanes_.size();
       i += static_cast<std::size_t>(ves_))
    if (lanes_[i].rate == r->emit_rate) return lanes_[i];
  throw std::logic_error("DecodeCohort: a request in no lane");
}

void DecodeCohort::add(Request* r) {
  Lane& l = lane_of(r);
  r->step_origin = l.tokens - r->generated;
  r->phase = Phase::Decode;
  if (counting_) l.settle();
  ++count_;
  ++l.count;
  l.base_sum += r->prompt - r->step_origin;
  ++l.phase_count[static_cast<std::size_t>(phase_of(r))];
  l.finish_at.emplace(r->step_origin + r->output, r->id, r);
}

void DecodeCohort::sync(Request* r) const { write_back(r, lane_of(r)); }

void DecodeCohort::write_back(Request* r, const Lane& l) const {
  // A speculating decode's last step may emit past its output: the client gets `output`, but
  // its slots were taken for all it emitted until it leaves.
  const std::int64_t emitted = l.tokens - r->step_origin;
  r->generated = static_cast<int>(std::min<std::int64_t>(emitted, r->output));
  r->blocks = r->running_blocks_for(std::int64_t{r->prompt} + emitted - 1, bs_) - r->cached_blocks();
}

void DecodeCohort::remove(Request* r) {
  Lane& l = lane_of(r);
  write_back(r, l);
  if (counting_) l.settle();
  --count_;
  --l.count;
  l.base_sum -= r->prompt - r->step_origin;
  --l.phase_count[static_cast<std::size_t>(phase_of(r))];
  if (l.finish_at.erase({r->step_origin + r->output, r->id, r}) != 1)
    throw std::logic_error("DecodeCohort: removing a request that is not decoding");
}

int DecodeCohort::lane_size_over_rates(int j) const {
  int n = 0;
  for (std::size_t i = static_cast<std::size_t>(j); i < lanes_.size(); i += static_cast<std::size_t>(ves_))
    n += lanes_[i].count;
  return n;
}

std::int64_t DecodeCohort::lane_context_sum(int j) const {
  std::int64_t sum = 0;
  for (std::size_t i = static_cast<std::size_t>(j); i < lanes_.size(); i += static_cast<std::size_t>(ves_))
    sum += lanes_[i].base_sum + lanes_[i].count * lanes_[i].tokens;
  return sum;
}

std::int64_t DecodeCohort::context_sum() const {
  std::int64_t sum = 0;
  for (const Lane& l : lanes_) sum += l.base_sum + l.count * l.tokens;
  return sum;
}

void DecodeCohort::clear_sitting() {
  for (Lane& l : lanes_) l.sitting = false;
}

int DecodeCohort::running() const {
  int n = 0;
  for (const Lane& l : lanes_) n += l.sitting ? 0 : l.count;
  return n;
}

std::int64_t DecodeCohort::running_context_sum() const {
  std::int64_t sum = 0;
  for (const Lane& l : lanes_)
    if (!l.sitting) sum += l.base_sum + l.count * l.tokens;
  return sum;
}

std::int64_t DecodeCohort::decode_steps() const {
  if (!counting_) return 0;
  std::int64_t n = 0;
  for (const Lane& l : lanes_) n += l.step_area + l.count * (l.steps - l.mark_steps);
  return n;
}

std::int64_t DecodeCohort::emitted_tokens() const {
  if (!counting_) return 0;
  std::int64_t n = 0;
  for (const Lane& l : lanes_) n += l.token_area + l.count * (l.tokens - l.mark_tokens);
  return n;
}

double DecodeCohort::mean_rate() const {
  double sum = 0;
  for (const Lane& l : lanes_) sum += static_cast<double>(l.count) * static_cast<double>(l.rate);
  return sum / (static_cast<double>(count_) * static_cast<double>(kOneToken));
}

inline std::int64_t DecodeCohort::lane_blocks(const Lane& l, std::int64_t from, std::int64_t n) const {
  if (n <= 0 || l.count == 0) return 0;
  std::int64_t total = (n / bs_) * l.count;
  const std::int64_t rem = n % bs_;
  const std::int64_t start = from % bs_;
  for (std::int64_t j = 0; j < rem; ++j) total += l.phase_count[static_cast<std::size_t>((start + j) % bs_)];
  return total;
}

std::int64_t DecodeCohort::blocks_needed(std::int64_t k) const {
  std::int64_t total = 0;
  for (const Lane& l : lanes_) {
    if (l.count == 0) continue;
    const std::int64_t s = steps_in(l, k);
    total += lane_blocks(l, l.tokens, l.rate == kOneToken ? s : l.tokens_at(l.steps + s) - l.tokens);
  }
  return total;
}

std::int64_t DecodeCohort::blocks_needed_at_lanes(std::int64_t j) const {
  std::int64_t total = 0;
  for (const Lane& l : lanes_) {
    const bool sitting = l.sitting;
    if (l.count == 0 || (sitting && j == 0)) continue;
    const std::int64_t local = l.steps + (sitting ? j - 1 : j);
    if (l.rate == kOneToken) {  // one token a step: the step's phase alone (the probe's hot path)
      total += l.phase_count[static_cast<std::size_t>(local % bs_)];
      continue;
    }
    const std::int64_t from = l.tokens_at(local);
    total += lane_blocks(l, from, l.tokens_at(local + 1) - from);
  }
  return total;
}

std::int64_t DecodeCohort::steps_fitting(std::int64_t free_blocks, std::int64_t limit) const {
  if (count_ == 0 || limit <= 0) return std::max<std::int64_t>(0, limit);
  if (!one_rate_) {
    // Lanes of several rates share no block cycle: the most steps whose blocks fit, by
    // bisection (blocks_needed grows with the steps).
    std::int64_t lo = 0, hi = limit;
    while (lo < hi) {
      const std::int64_t mid = lo + (hi - lo + 1) / 2;
      if (blocks_needed(mid) <= free_blocks)
        lo = mid;
      else
        hi = mid - 1;
    }
    return lo;
  }
  // Any bs consecutive steps need exactly one block per decode: whole cycles first, then the
  // remaining steps one phase at a time (at most bs of them, plus a step a lane sits out).
  const std::int64_t cycles = std::min(free_blocks / count_, limit / bs_ + 1);
  std::int64_t k = cycles * bs_, left = free_blocks - cycles * count_;
  if (k >= limit) return limit;
  for (std::int64_t j = 0; j <= bs_ && k < limit; ++j, ++k) {
    const std::int64_t need = blocks_needed_at(k);
    if (need > left) break;
    left -= need;
  }
  return k;
}

std::int64_t DecodeCohort::steps_to_next_finish() const {
  std::int64_t next = std::numeric_limits<std::int64_t>::max();
  for (const Lane& l : lanes_) {
    if (l.finish_at.empty()) continue;
    // The first step count whose clock reaches the earliest finishing token.
    const std::int64_t token = std::get<0>(*l.finish_at.begin());
    const std::int64_t at = l.rate == kOneToken ? token : (token * kOneToken + l.rate - 1) / l.rate;
    const std::int64_t k = at - l.steps;
    next = std::min(next, l.sitting ? k + 1 : k);
  }
  return next == std::numeric_limits<std::int64_t>::max() ? 0 : next;
}

void DecodeCohort::advance(std::int64_t k) {
  for (Lane& l : lanes_) {
    const std::int64_t s = steps_in(l, k);
    const std::int64_t tokens = l.rate == kOneToken ? l.tokens + s : l.tokens_at(l.steps + s);
    l.steps += s;
    l.tokens = tokens;
    l.sitting = false;
  }
}

const std::vector<Request*>& DecodeCohort::take_finished() {
  std::vector<Request*>& out = finished_;
  out.clear();
  // (tokens ago it finished, id): the earliest finish first, as one lane orders them. Reused:
  // this runs after every step and jump.
  auto& done = finishing_;
  done.clear();
  for (Lane& l : lanes_)
    for (auto it = l.finish_at.begin(); it != l.finish_at.end() && std::get<0>(*it) <= l.tokens; ++it)
      done.emplace_back(std::get<0>(*it) - l.tokens, std::get<1>(*it), std::get<2>(*it));
  if (lanes_.size() > 1) std::sort(done.begin(), done.end());
  for (const auto& [ago, id, r] : done) {
    remove(r);
    out.push_back(r);
  }
  return out;
}

}  // namespace kunsim
