#include "sim/serving/decode_cohort.hpp"

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
  r->blocks = Request::blocks_for(std::int64_t{r->prompt} + r->generated - 1, bs_);
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
  std::int64_t lo = 0, hi = limit;  // blocks_needed(lo) fits
  while (lo < hi) {
    const std::int64_t mid = lo + (hi - lo + 1) / 2;
    if (blocks_needed(mid) <= free_blocks) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

std::int64_t DecodeCohort::steps_to_next_finish() const {
  if (finish_at_.empty()) return 0;
  return std::get<0>(*finish_at_.begin()) - steps_;
}

std::vector<Request*> DecodeCohort::take_finished() {
  std::vector<Request*> out;
  while (!finish_at_.empty() && std::get<0>(*finish_at_.begin()) <= steps_) {
    Request* r = std::get<2>(*finish_at_.begin());
    remove(r);
    out.push_back(r);
  }
  return out;
}

}  // namespace kunsim
