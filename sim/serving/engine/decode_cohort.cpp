#include "sim/serving/engine/decode_cohort.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace kunsim {

DecodeCohort::DecodeCohort(int block_size, int lanes) : bs_(block_size), lanes_(static_cast<std::size_t>(lanes)) {
  for (Lane& l : lanes_) l.phase_count.assign(static_cast<std::size_t>(block_size), 0);
}

int DecodeCohort::phase_of(const Request* r) const {
  // The step run at steps == S needs a block iff prompt + (S - origin) - 1 is a multiple of bs.
  const std::int64_t p = (r->step_origin + 1 - r->prompt) % bs_;
  return static_cast<int>(p < 0 ? p + bs_ : p);
}

DecodeCohort::Lane& DecodeCohort::lane_of(const Request* r) {
  if (r->ve < 0 || r->ve >= lanes()) throw std::logic_error("DecodeCohort: a decode without a virtual engine");
  return lanes_[static_cast<std::size_t>(r->ve)];
}

const DecodeCohort::Lane& DecodeCohort::lane_of(const Request* r) const {
  return const_cast<DecodeCohort*>(this)->lane_of(r);
}

void DecodeCohort::add(Request* r) {
  Lane& l = lane_of(r);
  r->step_origin = l.steps - r->generated;
  r->phase = Phase::Decode;
  ++count_;
  ++l.count;
  l.base_sum += r->prompt - r->step_origin;
  ++l.phase_count[static_cast<std::size_t>(phase_of(r))];
  l.finish_at.emplace(r->step_origin + r->output, r->id, r);
}

void DecodeCohort::sync(Request* r) const {
  r->generated = static_cast<int>(lane_of(r).steps - r->step_origin);
  r->blocks = Request::blocks_for(std::int64_t{r->prompt} + r->generated - 1, bs_) - r->cached_blocks();
}

void DecodeCohort::remove(Request* r) {
  sync(r);
  Lane& l = lane_of(r);
  --count_;
  --l.count;
  l.base_sum -= r->prompt - r->step_origin;
  --l.phase_count[static_cast<std::size_t>(phase_of(r))];
  if (l.finish_at.erase({r->step_origin + r->output, r->id, r}) != 1)
    throw std::logic_error("DecodeCohort: removing a request that is not decoding");
}

std::int64_t DecodeCohort::context_sum() const {
  std::int64_t sum = 0;
  for (int j = 0; j < lanes(); ++j) sum += lane_context_sum(j);
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
  for (int j = 0; j < lanes(); ++j) sum += sitting_out(j) ? 0 : lane_context_sum(j);
  return sum;
}

std::int64_t DecodeCohort::lane_blocks(const Lane& l, std::int64_t k) const {
  if (k <= 0 || l.count == 0) return 0;
  std::int64_t total = (k / bs_) * l.count;
  const std::int64_t rem = k % bs_;
  const std::int64_t start = l.steps % bs_;
  for (std::int64_t j = 0; j < rem; ++j) total += l.phase_count[static_cast<std::size_t>((start + j) % bs_)];
  return total;
}

std::int64_t DecodeCohort::blocks_needed(std::int64_t k) const {
  std::int64_t total = 0;
  for (const Lane& l : lanes_) total += lane_blocks(l, l.steps_in(k));
  return total;
}

std::int64_t DecodeCohort::blocks_needed_at(std::int64_t j) const {
  std::int64_t total = 0;
  for (const Lane& l : lanes_) {
    if (l.count == 0 || (l.sitting && j == 0)) continue;
    const std::int64_t local = l.sitting ? j - 1 : j;
    total += l.phase_count[static_cast<std::size_t>((l.steps + local) % bs_)];
  }
  return total;
}

std::int64_t DecodeCohort::steps_fitting(std::int64_t free_blocks, std::int64_t limit) const {
  if (count_ == 0 || limit <= 0) return std::max<std::int64_t>(0, limit);
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
    const std::int64_t k = std::get<0>(*l.finish_at.begin()) - l.steps;
    next = std::min(next, l.sitting ? k + 1 : k);
  }
  return next == std::numeric_limits<std::int64_t>::max() ? 0 : next;
}

void DecodeCohort::advance(std::int64_t k) {
  for (Lane& l : lanes_) {
    l.steps += l.steps_in(k);
    l.sitting = false;
  }
}

const std::vector<Request*>& DecodeCohort::take_finished() {
  std::vector<Request*>& out = finished_;
  out.clear();
  // (steps ago it finished, id): the earliest finish first, as one lane orders them. Reused: this
  // runs after every step and jump.
  auto& done = finishing_;
  done.clear();
  for (Lane& l : lanes_)
    for (auto it = l.finish_at.begin(); it != l.finish_at.end() && std::get<0>(*it) <= l.steps; ++it)
      done.emplace_back(std::get<0>(*it) - l.steps, std::get<1>(*it), std::get<2>(*it));
  if (lanes_.size() > 1) std::sort(done.begin(), done.end());
  for (const auto& [ago, id, r] : done) {
    remove(r);
    out.push_back(r);
  }
  return out;
}

}  // namespace kunsim
