#include "sim/serving/instance.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kunsim {

namespace {
constexpr std::uint64_t kKick = 1;  // event arg: plan now; 0 ends the work in flight
}  // namespace

Instance::Instance(int id, std::vector<int> gpus, const ServingContext& ctx, std::int64_t num_blocks,
                   std::int64_t host_swap_blocks)
    : id_(id),
      gpus_(std::move(gpus)),
      ctx_(ctx),
      kv_(num_blocks),
      host_capacity_(host_swap_blocks),
      watermark_blocks_(static_cast<std::int64_t>(std::floor(ctx.engine->watermark * static_cast<double>(num_blocks)))),
      cohort_(ctx.engine->block_size) {}

void Instance::enqueue(Request* r, SimTime now) {
  r->instance = id_;
  r->phase = Phase::Waiting;
  r->prefill_target = r->prompt + r->generated;
  r->prefilled = 0;
  waiting_.push_back(r);
  queued_blocks_ += Request::blocks_for(r->prefill_target, ctx_.engine->block_size);
  if (!busy_) {
    // Plan in an event of its own at this same instant: FIFO order at equal times runs it after
    // every arrival already due now, so simultaneous arrivals share the first iteration, as
    // they would in an engine whose step starts with all of them queued.
    if (!kick_pending_) {
      kick_pending_ = true;
      ctx_.events->schedule(now, this, kKick);
    }
    return;
  }
  // A jump assumed nothing would arrive; cut it at the first step boundary at or after now,
  // where a step-by-step scheduler would first have seen this request.
  if (work_ == Work::Jump) {
    std::int64_t s = jump_run_.steps_by(now - work_start_);
    if (jump_run_.elapsed(s) < now - work_start_) ++s;
    s = std::max<std::int64_t>(s, 1);
    if (s < jump_steps_) {
      ctx_.events->cancel(work_event_);
      jump_steps_ = s;
      work_end_ = work_start_ + jump_run_.elapsed(s);
      work_event_ = ctx_.events->schedule(work_end_, this);
    }
  }
}

bool Instance::can_admit(const Request* r) const {
  if (running_.size() >= ctx_.engine->max_num_seqs) return false;
  const std::int64_t need = Request::blocks_for(r->prefill_target, ctx_.engine->block_size);
  return kv_.free() - cohort_.blocks_needed(1) - need >= watermark_blocks_;
}

bool Instance::can_swap_in(const Request* r) const {
  if (running_.size() >= ctx_.engine->max_num_seqs) return false;
  // Its blocks plus one for its next step, on top of what the current decodes need.
  return kv_.free() - cohort_.blocks_needed(1) - r->blocks - 1 >= watermark_blocks_;
}

void Instance::plan(SimTime now) {
  if (busy_) return;
  bool prefilling = false;
  for (Request* r = running_.front(); r && !prefilling; r = r->next) prefilling = r->phase == Phase::Prefill;
  const bool admissible = (!swapped_.empty() && can_swap_in(swapped_.front())) ||
                          (!waiting_.empty() && can_admit(waiting_.front()));
  if (prefilling || admissible || cohort_.blocks_needed(1) > kv_.free()) {
    run_iteration(now);
    return;
  }
  if (cohort_.size() == 0) return;  // nothing can run until something arrives
  // Only decodes until the next finish: nothing can be admitted before blocks are freed, and
  // blocks are freed only by a finish. Jump to it, or to where the blocks run out.
  const std::int64_t to_finish = cohort_.steps_to_next_finish();
  start_jump(now, cohort_.steps_fitting(kv_.free(), to_finish));
}

void Instance::start_jump(SimTime now, std::int64_t steps) {
  if (steps < 1) throw std::logic_error("Instance: empty decode jump");
  shape_.prefills.clear();
  shape_.num_decodes = cohort_.size();
  shape_.decode_context_sum = cohort_.context_sum();
  shape_.layers = ctx_.model->layers;
  shape_.sampled = cohort_.size();
  jump_run_ = ctx_.cost->decode_run(shape_);
  busy_ = true;
  work_ = Work::Jump;
  work_start_ = now;
  jump_steps_ = steps;
  work_end_ = now + jump_run_.elapsed(steps);
  work_event_ = ctx_.events->schedule(work_end_, this);
}

SimTime Instance::transfer_per_gpu(std::int64_t bytes, bool to_host, SimTime now) {
  // Each GPU of the TP group moves its own heads' share over its own PCIe link, in parallel.
  SimTime end = now;
  for (int g : gpus_) {
    const Route& route = to_host ? ctx_.topology->gpu_to_host(g) : ctx_.topology->host_to_gpu(g);
    end = std::max(end, ctx_.links->reserve(route, bytes, now).end);
  }
  return end;
}

void Instance::decision(SimTime now, const char* kind, const Request& r, const std::string& reason,
                        std::int64_t blocks) {
  ctx_.observer->on_decision({{"t_ns", now},
                              {"kind", kind},
                              {"instance", id_},
                              {"request", r.id},
                              {"blocks", blocks},
                              {"kv_used", kv_.used()},
                              {"kv_capacity", kv_.capacity()},
                              {"reason", reason}});
}

void Instance::preempt(Request* victim, SimTime now, SimTime& blocked_until) {
  const bool was_decoding = victim->phase == Phase::Decode;
  if (was_decoding) cohort_.remove(victim);  // syncs generated and blocks
  running_.erase(victim);
  ++counters_.preemptions;
  ++victim->preemptions;
  const std::int64_t blocks = victim->blocks;
  PreemptDecision d{PreemptMode::Recompute, "prefill in progress: nothing to keep"};
  if (was_decoding) d = ctx_.policy->on_preempt(*this, *victim);
  if (d.mode == PreemptMode::Swap && host_used_ + blocks > host_capacity_) {
    d = {PreemptMode::Recompute, "swap space full (" + std::to_string(host_used_) + "/" +
                                     std::to_string(host_capacity_) + " blocks): recompute instead"};
  }
  kv_.release(blocks);
  if (d.mode == PreemptMode::Swap) {
    host_used_ += blocks;
    blocked_until = std::max(blocked_until, transfer_per_gpu(blocks * ctx_.memory->block_bytes, true, now));
    victim->phase = Phase::Swapped;
    ++victim->swaps;
    ++counters_.swaps_out;
    swapped_.push_back(victim);
    decision(now, "swap_out", *victim, d.reason, blocks);
    return;
  }
  ++counters_.recomputes;
  victim->blocks = 0;
  victim->phase = Phase::Waiting;
  victim->prefill_target = victim->prompt + victim->generated;
  victim->prefilled = 0;
  waiting_.push_front(victim);
  queued_blocks_ += Request::blocks_for(victim->prefill_target, ctx_.engine->block_size);
  decision(now, "preempt", *victim, "out of KV blocks; recompute: " + d.reason, blocks);
}

void Instance::swap_in(Request* r, SimTime now, SimTime& blocked_until) {
  swapped_.pop_front();
  host_used_ -= r->blocks;
  kv_.allocate(r->blocks);
  blocked_until = std::max(blocked_until, transfer_per_gpu(r->blocks * ctx_.memory->block_bytes, false, now));
  ++counters_.swaps_in;
  running_.push_back(r);
  cohort_.add(r);
  decision(now, "swap_in", *r, "blocks free again", r->blocks);
}

void Instance::run_iteration(SimTime now) {
  const EngineParams& e = *ctx_.engine;
  SimTime blocked_until = now;
  bool preempted = false;
  // 1. Every decode runs; free blocks for their growth by preempting the newest requests.
  while (cohort_.blocks_needed(1) > kv_.free()) {
    if (running_.empty()) throw std::logic_error("Instance: decodes need blocks but nothing runs");
    preempt(running_.back(), now, blocked_until);
    preempted = true;
  }
  // 2. Swapped requests come back first (vLLM's order), unless this step had to preempt.
  while (!preempted && !swapped_.empty() && can_swap_in(swapped_.front())) swap_in(swapped_.front(), now, blocked_until);
  const std::int64_t decode_blocks = cohort_.blocks_needed(1);
  kv_.allocate(decode_blocks);
  decoded_ = cohort_.size() > 0;
  std::int64_t budget = e.max_num_batched_tokens - cohort_.size();

  // 3. Running prefills continue, in admission order.
  shape_.prefills.clear();
  prefills_.clear();
  int finishing_prefills = 0;
  for (Request* r = running_.front(); r && budget > 0; r = r->next) {
    if (r->phase != Phase::Prefill) continue;
    const int chunk = static_cast<int>(std::min<std::int64_t>(r->prefill_target - r->prefilled, budget));
    budget -= chunk;
    prefills_.emplace_back(r, chunk);
    shape_.prefills.push_back({chunk, r->prefilled});
    finishing_prefills += r->prefilled + chunk == r->prefill_target;
  }
  // 4. Admit waiting requests FCFS (head-of-line: the first that does not fit stops admission).
  //    After a preemption vLLM admits nothing new, unless the batch would otherwise be empty.
  const bool allow_admit = !preempted || (cohort_.size() == 0 && prefills_.empty());
  while (allow_admit && budget > 0 && !waiting_.empty() && can_admit(waiting_.front())) {
    Request* r = waiting_.front();
    waiting_.pop_front();
    r->blocks = Request::blocks_for(r->prefill_target, e.block_size);
    queued_blocks_ -= r->blocks;
    kv_.allocate(r->blocks);
    r->phase = Phase::Prefill;
    if (!r->scheduled) r->scheduled = now;
    running_.push_back(r);
    const int chunk = static_cast<int>(std::min<std::int64_t>(r->prefill_target, budget));
    budget -= chunk;
    prefills_.emplace_back(r, chunk);
    shape_.prefills.push_back({chunk, 0});
    finishing_prefills += chunk == r->prefill_target;
  }
  if (!decoded_ && prefills_.empty()) return;  // everything was preempted away: wait for work

  shape_.num_decodes = cohort_.size();
  shape_.decode_context_sum = cohort_.context_sum();
  shape_.layers = ctx_.model->layers;
  shape_.sampled = cohort_.size() + finishing_prefills;
  const SimTime compute = seconds_to_ns(ctx_.cost->iteration(shape_).sum());
  busy_ = true;
  work_ = Work::Iteration;
  work_start_ = now;
  work_end_ = blocked_until + compute;
  ++counters_.iterations;
  work_event_ = ctx_.events->schedule(work_end_, this);
}

void Instance::handle_event(SimTime now, std::uint64_t arg) {
  if (arg == kKick) {
    kick_pending_ = false;
    plan(now);
    return;
  }
  counters_.busy_ns += now - work_start_;
  busy_ = false;
  if (work_ == Work::Jump) end_jump(now);
  else end_iteration(now);
  work_ = Work::None;
  plan(now);
}

void Instance::finish(Request* r, SimTime now) {
  kv_.release(r->blocks);
  r->blocks = 0;
  running_.erase(r);
  r->phase = Phase::Finished;
  r->finished = now;
  ctx_.observer->on_request_done(*r, now);
}

void Instance::finish_decodes(SimTime now) {
  for (Request* r : cohort_.take_finished()) finish(r, now);
}

void Instance::end_jump(SimTime now) {
  kv_.allocate(cohort_.blocks_needed(jump_steps_));
  cohort_.advance(jump_steps_);
  ++counters_.jumps;
  counters_.jumped_steps += jump_steps_;
  finish_decodes(now);
}

void Instance::end_iteration(SimTime now) {
  if (decoded_) {
    cohort_.advance(1);
    finish_decodes(now);
  }
  for (auto [r, chunk] : prefills_) {
    r->prefilled += chunk;
    if (r->prefilled < r->prefill_target) continue;
    r->generated += 1;  // the prefill's last position samples the next token
    if (!r->first_token) {
      r->first_token = now;
      ctx_.observer->on_first_token(*r, now);
    }
    if (r->generated >= r->output) finish(r, now);
    else cohort_.add(r);
  }
  prefills_.clear();
}

std::int64_t Instance::kv_used_at(SimTime t) const {
  if (work_ != Work::Jump) return kv_.used();
  const std::int64_t s = std::min(jump_steps_, jump_run_.steps_by(t - work_start_));
  return kv_.used() + cohort_.blocks_needed(s);
}

std::vector<Request*> Instance::take_all() {
  std::vector<Request*> out;
  for (Request* r = running_.front(); r; r = r->next) {
    if (r->phase == Phase::Decode) cohort_.sync(r);
    out.push_back(r);
  }
  out.insert(out.end(), swapped_.begin(), swapped_.end());
  out.insert(out.end(), waiting_.begin(), waiting_.end());
  return out;
}

}  // namespace kunsim
