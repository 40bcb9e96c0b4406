// DecodeCohort: the decoding requests of one instance, advanced together without touching each
// request per step. Every iteration of an instance runs one decode step for all its decodes, so
// one counter `steps` stands for all of them: a request's outputs = steps - its step_origin.
// Alongside: the sum of contexts (for the cost model), each request's finishing step (ordered),
// and a histogram of the step phase at which each needs its next KV block, so "how many blocks
// do the next k steps need" is O(block_size) and "how many steps fit in F free blocks" is a
// binary search over that. This is what lets the simulator jump over decode steps.
#pragma once
#include <cstdint>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "sim/serving/engine/request.hpp"

namespace kunsim {

class DecodeCohort {
 public:
  explicit DecodeCohort(int block_size) : bs_(block_size), phase_count_(block_size, 0) {}

  // `r` has r.generated outputs and prompt + generated - 1 tokens cached.
  void add(Request* r);
  // Removes `r`, first writing its current `generated` and `blocks` back into it.
  void remove(Request* r);
  // Writes current `generated` and `blocks` of `r` into it (for outputs; not needed to run).
  void sync(Request* r) const;

  int size() const { return count_; }
  std::int64_t steps() const { return steps_; }
  // Sum over decodes of tokens attended by the next step (prompt + generated).
  std::int64_t context_sum() const { return base_sum_ + count_ * steps_; }
  // KV blocks the next k steps allocate, all decodes together.
  std::int64_t blocks_needed(std::int64_t k) const;
  // KV blocks the j-th next step (0-based) allocates.
  std::int64_t blocks_needed_at(std::int64_t j) const { return count_ ? phase_count_[(steps_ + j) % bs_] : 0; }
  // The most steps (<= limit) whose blocks fit in `free_blocks`.
  std::int64_t steps_fitting(std::int64_t free_blocks, std::int64_t limit) const;
  // Steps until the first decode finishes (its last output is produced); 0 if none.
  std::int64_t steps_to_next_finish() const;
  // Advances all decodes by k steps (the caller allocated blocks_needed(k) first).
  void advance(std::int64_t k) { steps_ += k; }
  // Pops the requests whose last output was produced by the steps done so far (the vector
  // is reused by the next call).
  const std::vector<Request*>& take_finished();

 private:
  int phase_of(const Request* r) const;
  int bs_;
  std::int64_t steps_ = 0;
  int count_ = 0;
  std::int64_t base_sum_ = 0;  // sum of (prompt - step_origin)
  std::vector<std::int64_t> phase_count_;
  // (finishing step, id, request): ordered by step, ties by id, so finishing order is stable.
  std::set<std::tuple<std::int64_t, RequestId, Request*>> finish_at_;
  std::vector<Request*> finished_;
};

}  // namespace kunsim
