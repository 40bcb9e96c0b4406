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
  static constexpr std::int64_t kOneToken = 1 << 16;  // SpeculativeSpec::kOneToken: one token a step
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
  int lane_size(int j) const {  // one rate (the rule): its lane alone
    return lanes_.size() == static_cast<std::size_t>(ves_) ? lanes_[static_cast<std::size_t>(j)].count
                                                           : lane_size_over_rates(j);
  }
  std::int64_t lane_context_sum(int j) const;
  // Lane `j` sits out the next step: its decodes produce nothing in it (and need no blocks for
  // it). Cleared by the next advance() or clear_sitting().
  void sit_out(int j) {
    for (std::size_t i = static_cast<std::size_t>(j); i < lanes_.size(); i += static_cast<std::size_t>(ves_))
      lanes_[i].sitting = true;
  }
  bool sitting_out(int j) const { return lanes_[static_cast<std::size_t>(j)].sitting; }
  void clear_sitting();
  // Mean tokens a step emits per decode, over the decodes now in the cohort (1 without
  // speculation; 1 when empty).
  double tokens_per_step() const { return one_rate_ || count_ == 0 ? 1.0 : mean_rate(); }
  // Decodes that run in the next step (those of lanes not sitting it out), and their contexts.
  int running() const;
  std::int64_t running_context_sum() const;
  // KV blocks the next k steps allocate, all decodes together.
  std::int64_t blocks_needed(std::int64_t k) const;
  // KV blocks the j-th next step (0-based) allocates. Inline for the rule, one lane of one token
  // a step: dispatchers probe it step by step through every jump.
  std::int64_t blocks_needed_at(std::int64_t j) const {
    if (lanes_.size() != 1 || lanes_[0].rate != kOneToken) return blocks_needed_at_lanes(j);
    const Lane& l = lanes_[0];
    if (l.count == 0 || (l.sitting && j == 0)) return 0;
    return l.phase_count[static_cast<std::size_t>((l.steps + (l.sitting ? j - 1 : j)) % bs_)];
  }
  // The most steps (<= limit) whose blocks fit in `free_blocks`.
  std::int64_t steps_fitting(std::int64_t free_blocks, std::int64_t limit) const;
  // Steps until the first decode finishes (its last output is produced); 0 if none.
  std::int64_t steps_to_next_finish() const;
  // Advances all decodes by k steps (the caller allocated blocks_needed(k) first); a lane
  // sitting out the first of them advances k - 1.
  void advance(std::int64_t k);
  // Since the start, once count_steps() was called (a speculating engine calls it; others
  // need not pay for the count): decode steps run, one per decode per step, and the tokens
  // they emitted (more than the steps where decodes speculate).
  void count_steps() { counting_ = true; }
  std::int64_t decode_steps() const;
  std::int64_t emitted_tokens() const;
  // Pops the requests whose last output was produced by the steps done so far, earliest finish
  // first, ties by id (the vector is reused by the next call).
  const std::vector<Request*>& take_finished();

 private:
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
    bool sitting = false;  // its virtual engine sits the next step out
    // Decode steps and tokens its decodes ran up to the clock at `mark` (counted when its count
    // changes, not every step).
    std::int64_t step_area = 0, token_area = 0, mark_steps = 0, mark_tokens = 0;
    void settle() {
      step_area += count * (steps - mark_steps);
      token_area += count * (tokens - mark_tokens);
      mark_steps = steps;
      mark_tokens = tokens;
    }
    std::int64_t tokens_at(std::int64_t s) const { return rate == kOneToken ? s : s * rate / kOneToken; }
  };
  // Steps lane `l` advances in the first `k` of the cohort's.
  std::int64_t steps_in(const Lane& l, std::int64_t k) const {
    return l.sitting ? std::max<std::int64_t>(k - 1, 0) : k;
  }
  // The clock tick to tokens == T needs a block iff prompt + lookahead + (T - origin) - 1 is a
  // multiple of bs: the slot it takes starts a block.
  int phase_of(const Request* r) const {
    const std::int64_t p = (r->step_origin + 1 - r->prompt - r->lookahead) % bs_;
    return static_cast<int>(p < 0 ? p + bs_ : p);
  }
  // Its lane: the first lane of its virtual engine as a rule (one rate), else the one of its
  // rate, made on first use.
  Lane& lane_of(const Request* r) {
    if (r->ve >= 0 && r->ve < ves_ && lanes_[static_cast<std::size_t>(r->ve)].rate == r->emit_rate)
      return lanes_[static_cast<std::size_t>(r->ve)];
    return lane_of_rate(r);
  }
  Lane& lane_of_rate(const Request* r);
  const Lane& lane_of(const Request* r) const;
  // Blocks lane `l` allocates while its clock runs from `from` for `n` tokens.
  std::int64_t lane_blocks(const Lane& l, std::int64_t from, std::int64_t n) const;
  int lane_size_over_rates(int j) const;
  std::int64_t blocks_needed_at_lanes(std::int64_t j) const;
  double mean_rate() const;
  // Writes r's current `generated` and `blocks` from its lane `l`.
  void write_back(Request* r, const Lane& l) const;
  int bs_;
  int ves_;
  int count_ = 0;
  bool one_rate_ = true;  // every lane runs at one token a step
  bool counting_ = false;      // count_steps()
  std::vector<Lane> lanes_;    // by rate, then virtual engine: lane rate_index * ves_ + ve
  std::vector<Request*> finished_;
  std::vector<std::tuple<std::int64_t, RequestId, Request*>> finishing_;  // take_finished's scratch
};

}  // namespace kunsim
