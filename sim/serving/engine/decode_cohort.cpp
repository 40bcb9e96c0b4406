#include "sim/serving/engine/decode_cohort.hpp"

#include <algorithm>
#include <stdexcept>

namespace kunsim {

int DecodeCohort::phase_of(const Request* r) const {
  // The step run at steps == S needs a block iff prompt + (S - origin) - 1 is a multiple of bs.
  const std::int64_t p = (r->step_origin + 1 - r->prompt) % bs_;
  return static_cast<int>(p < 0 ? p + bs_ : p);
}

void DecodeCohort::add(Request* r) {
  r->step_origin = steps_ - r->generated;
  r->phase = Phase::Decode;
  ++count_;
  base_sum_ += r->prompt - r->step_origin;
  ++phase_count_[phase_of(r)];
  finish_at_.emplace(r->step_origin + r->output, r->id, r);
}

void DecodeCohort::sync(Request* r) const {
  r->generated = static_cast<int>(steps_ - r->step_origin);
  r->blocks = Request::blocks_for(std::int64_t{r->prompt} + r->generated - 1, bs_) - r->cached_blocks();
}

void DecodeCohort::remove(Request* r) {
  sync(r);
  --count_;
  base_sum_ -= r->prompt - r->step_origin;
  --phase_count_[phase_of(r)];
  if (finish_at_.erase({r->step_origin + r->output, r->id, r}) != 1)
    throw std::logic_error("DecodeCohort: removing a request that is not decoding");
}

std::int64_t DecodeCohort::blocks_needed(std::int64_t k) const {
  if (k <= 0 || count_ == 0) return 0;
  std::int64_t total = (k / bs_) * count_;
  const std::int64_t rem = k % bs_;
  const std::int64_t start = steps_ % bs_;
  for (std::int64_t j = 0; j < rem; ++j) total += phase_count_[(start + j) % bs_];
  return total;
}

std::int64_t DecodeCohort::steps_fitting(std::int64_t free_blocks, std::int64_t limit) const {
  if (count_ == 0 || limit <= 0) return std::max<std::int64_t>(0, limit);
  // Any bs consecutive steps need exactly one block per decode: whole cycles first, then the
  // remaining steps one phase at a time (at most bs of them).
  const std::int64_t cycles = std::min(free_blocks / count_, limit / bs_ + 1);
  std::int64_t k = cycles * bs_, left = free_blocks - cycles * count_;
  if (k >= limit) return limit;
  for (std::int64_t j = 0; j < bs_ && k < limit; ++j, ++k) {
    const std::int64_t need = phase_count_[(steps_ + k) % bs_];
    if (need > left) break;
    left -= need;
  }
  return k;
}

std::int64_t DecodeCohort::steps_to_next_finish() const {
  if (finish_at_.empty()) return 0;
  return std::get<0>(*finish_at_.begin()) - steps_;
}

const std::vector<Request*>& DecodeCohort::take_finished() {
  std::vector<Request*>& out = finished_;
  out.clear();
  while (!finish_at_.empty() && std::get<0>(*finish_at_.begin()) <= steps_) {
    Request* r = std::get<2>(*finish_at_.begin());
    remove(r);
    out.push_back(r);
  }
  return out;
}

}  // namespace kunsim
