// DecodeCohort: the decoding requests of one instance, advanced together without touching each
// request per step. Every iteration of an instance runs one decode step for all its decodes, so
// one counter `steps` stands for all of them: a request's outputs = steps - its step_origin.
// Alongside: the sum of contexts (for the cost model), each request's finishing step (ordered),
// and a histogram of the step phase at which each needs its next KV block, so "how many blocks
// do the next k steps need" is O(block_size) and "how many steps fit in F free blocks" is a
// binary search over that. This is what lets the simulator jump over decode steps.
//
// A pipeline group's decodes are split among its virtual engines (Request::ve), each the lane
// of one micro-batch, and each lane keeps all of the above with a step counter of its own: a
// virtual engine that runs a prefill-only step sits it out (sit_out), so its decodes produce
// nothing that step, at no cost per request. A normal instance has one virtual engine.
//
// Speculative decoding emits more than one token a step: E on average (SpeculativeSpec). Decodes
// of one emission rate (Request::emit_rate) share a lane per virtual engine, whose token clock
// after s steps is floor(s x E): every decode of the lane has emitted clock - its origin tokens,
// and each step emits floor(E) or ceil(E), E on average, exactly. Everything above is kept in
// tokens of that clock, so KV blocks and finishes stay O(1) to O(block_size) per query, with no
// per-request work per step: the jump survives. A lane of rate 1 has clock = steps. A
// speculating decode holds Request::lookahead slots beyond its context (the blocks it needs
// are counted at context + lookahead).
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
  explicit DecodeCohort(int block_size, int lanes = 1);

  // `r` has r.generated outputs and prompt + generated - 1 tokens cached; r.ve is its lane.
  void add(Request* r);
  // Removes `r`, first writing its current `generated` and `blocks` back into it.
  void remove(Request* r);
  // Writes current `generated` and `blocks` of `r` into it (for outputs; not needed to run).
  void sync(Request* r) const;

  int size() const { return count_; }
  // Sum over decodes of tokens attended by the next step (prompt + generated).
  std::int64_t context_sum() const;
  // Lane `j` (a pipeline group's virtual engine j): its decodes, and their context sum.
  int lanes() const { return ves_; }
  int lane_size(int j) const;
  std::int64_t lane_context_sum(int j) const;
  // Lane `j` sits out the next step: its decodes produce nothing in it (and need no blocks for
  // it). Cleared by the next advance() or clear_sitting().
  void sit_out(int j) { sitting_[static_cast<std::size_t>(j)] = 1; }
  bool sitting_out(int j) const { return sitting_[static_cast<std::size_t>(j)] != 0; }
  void clear_sitting();
  // Mean tokens a step emits per decode, over the decodes now in the cohort (1 without
  // speculation; 1 when empty).
  double tokens_per_step() const;
  // Decodes that run in the next step (those of lanes not sitting it out), and their contexts.
  int running() const;
  std::int64_t running_context_sum() const;
  // KV blocks the next k steps allocate, all decodes together.
  std::int64_t blocks_needed(std::int64_t k) const;
  // KV blocks the j-th next step (0-based) allocates.
  std::int64_t blocks_needed_at(std::int64_t j) const;
  // The most steps (<= limit) whose blocks fit in `free_blocks`.
  std::int64_t steps_fitting(std::int64_t free_blocks, std::int64_t limit) const;
  // Steps until the first decode finishes (its last output is produced); 0 if none.
  std::int64_t steps_to_next_finish() const;
  // Advances all decodes by k steps (the caller allocated blocks_needed(k) first); a lane
  // sitting out the first of them advances k - 1. Counts the decode steps run and the tokens
  // they emitted into the totals below.
  void advance(std::int64_t k);
  // Since the start: decode steps run, one per decode per step, and the tokens they emitted
  // (more than the steps where decodes speculate).
  std::int64_t decode_steps() const { return decode_steps_; }
  std::int64_t emitted_tokens() const { return emitted_tokens_; }
  // Pops the requests whose last output was produced by the steps done so far, earliest finish
  // first, ties by id (the vector is reused by the next call).
  const std::vector<Request*>& take_finished();

 private:
  static constexpr std::int64_t kOneToken = 1 << 16;  // SpeculativeSpec::kOneToken
  struct Lane {
    int ve = 0;                     // its virtual engine
    std::int64_t rate = kOneToken;  // tokens a step, in 1/65536ths
    std::int64_t steps = 0;
    std::int64_t tokens = 0;  // its token clock: tokens_at(steps)
    int count = 0;
    std::int64_t base_sum = 0;  // sum of (prompt - step_origin)
    // Decodes by the token phase (clock mod block size) at which they need their next block.
    std::vector<std::int64_t> phase_count;
    // (finishing token, id, request): ordered by the clock, ties by id, so finishing order is stable.
    std::set<std::tuple<std::int64_t, RequestId, Request*>> finish_at;
    std::int64_t tokens_at(std::int64_t s) const { return rate == kOneToken ? s : s * rate / kOneToken; }
  };
  // Steps lane `l` advances in the first `k` of the cohort's.
  std::int64_t steps_in(const Lane& l, std::int64_t k) const {
    return sitting_[static_cast<std::size_t>(l.ve)] ? std::max<std::int64_t>(k - 1, 0) : k;
  }
  int phase_of(const Request* r) const;
  Lane& lane_of(const Request* r);
  const Lane& lane_of(const Request* r) const;
  // Blocks lane `l` allocates while its clock runs from `from` for `n` tokens.
  std::int64_t lane_blocks(const Lane& l, std::int64_t from, std::int64_t n) const;
  // Blocks lane `l` allocates over its part of the cohort's `k` next steps.
  std::int64_t lane_blocks_in(const Lane& l, std::int64_t k) const;
  int bs_;
  int ves_;
  int count_ = 0;
  bool one_rate_ = true;  // every lane runs at one token a step
  std::int64_t decode_steps_ = 0, emitted_tokens_ = 0;
  std::vector<char> sitting_;  // by virtual engine
  std::vector<Lane> lanes_;    // by rate, then virtual engine: lane rate_index * ves_ + ve
  std::vector<Request*> finished_;
  std::vector<std::tuple<std::int64_t, RequestId, Request*>> finishing_;  // take_finished's scratch
};

}  // namespace kunsim
