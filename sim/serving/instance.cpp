#include "sim/serving/instance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "sim/serving/micro_batches.hpp"
#include "sim/serving/pipeline_cost.hpp"

namespace kunsim {

namespace {
// Event args: kKick plans now; any other value ends the work in flight whose generation it
// carries. A cut jump gets a new generation, so its superseded end event is ignored when it
// comes up: cheaper than cancelling through the queue on this hot path.
constexpr std::uint64_t kKick = 0;
}  // namespace

Instance::Instance(int id, std::vector<Member> members, const ServingContext& ctx, std::int64_t host_swap_blocks)
    : id_(id),
      members_(std::move(members)),
      ctx_(ctx),
      kv_(0),
      host_capacity_(host_swap_blocks),
      watermark_blocks_(0),
      cohort_(ctx.engine->block_size),
      stale_decodes_by_home_(members_.size(), 0) {
  if (members_.empty()) throw std::logic_error("Instance: no members");
  std::int64_t base = 0;
  for (const Member& m : members_) base += m.base_blocks;
  watermark_blocks_ = ctx.engine->watermark_blocks(base);
  refresh_capacity();
  if (members_.size() > 1)
    geometry_ = {stages(), static_cast<int>(members_[0].gpus.size()), ctx.model->layers,
                 pipeline_links(*ctx.topology, members_, *ctx.model)};
  check_memory();
}

// Invariant: on every GPU, the weights it keeps + its KV blocks + workspace and reserve fit in
// the memory the engine may use, through every drop and restore.
void Instance::check_memory() const {
  const MemoryPlan& plan = *ctx_.memory;
  const ModelSpec& m = *ctx_.model;
  const int g = stages(), tp = ctx_.engine->tp;
  for (int r = 0; r < g; ++r) {
    const std::int64_t weights =
        (std::int64_t{stage_layers(r, g, m.layers)} * m.layer_weight_bytes() + m.embedding_weight_bytes()) / tp;
    const std::int64_t total = weights + members_[r].capacity() * plan.block_bytes + plan.workspace_bytes + plan.reserve_bytes;
    if (plan.usable_bytes > 0 && total > plan.usable_bytes)
      throw std::logic_error("Instance " + std::to_string(id_) + " member " + std::to_string(r) + ": " +
                             std::to_string(total) + " bytes planned on a GPU with " + std::to_string(plan.usable_bytes) +
                             " usable");
  }
}

std::vector<int> Instance::gpus() const {
  std::vector<int> out;
  for (const Member& m : members_) out.insert(out.end(), m.gpus.begin(), m.gpus.end());
  return out;
}

void Instance::refresh_capacity() {
  std::int64_t cap = 0;
  if (members_.size() == 1) {
    cap = members_[0].capacity();
  } else {
    // Per-stage KV of a block is 1/g of a whole-model block on every member; stale KV sits
    // whole on its home. The member with the least room bounds the per-stage KV.
    const auto g = static_cast<std::int64_t>(members_.size());
    std::int64_t room = std::numeric_limits<std::int64_t>::max(), stale = 0;
    for (const Member& m : members_) {
      room = std::min(room, m.capacity() - m.stale_blocks);
      stale += m.stale_blocks;
    }
    cap = g * room + stale;
  }
  kv_.resize(cap);
}

void Instance::absorb_counters(const InstanceCounters& c) { counters_ += c; }

void Instance::enqueue(Request* r, SimTime now) {
  r->instance = id_;
  r->phase = Phase::Waiting;
  r->prefill_target = r->prompt + r->generated;
  r->prefilled = 0;
  waiting_.push_back(r);
  queued_blocks_ += Request::blocks_for(r->prefill_target, ctx_.engine->block_size);
  // Planned in an event of its own at this same instant: FIFO order at equal times runs it after
  // every arrival already due now, so simultaneous arrivals share the first iteration, as they
  // would in an engine whose step starts with all of them queued.
  if (!busy_) kick(now);
  else cut_jump(now);
}

void Instance::kick(SimTime now) {
  if (busy_ || paused_ || kick_pending_) return;
  kick_pending_ = true;
  ctx_.events->schedule(now, this, kKick);
}

// A jump assumed nothing would change; cut it at the first step boundary at or after now, where
// a step-by-step scheduler would first have seen the change.
void Instance::cut_jump(SimTime now) {
  if (work_ != Work::Jump) return;
  std::int64_t s = jump_run_.steps_by(now - work_start_);
  if (jump_run_.elapsed(s) < now - work_start_) ++s;
  s = std::max<std::int64_t>(s, 1);
  if (s < jump_steps_) {
    jump_steps_ = s;
    work_end_ = work_start_ + jump_run_.elapsed(s);
    ctx_.events->schedule(work_end_, this, ++work_generation_);
  }
}

void Instance::pause(SimTime now, std::function<void(SimTime)> on_paused) {
  if (!busy_) {
    paused_ = true;
    on_paused(now);
    return;
  }
  on_paused_ = std::move(on_paused);
  cut_jump(now);
}

void Instance::resume(SimTime now) {
  paused_ = false;
  kick(now);
}

void Instance::set_blocked(bool blocked, SimTime now) {
  blocked_ = blocked;
  if (!blocked_) resume(now);
}

// A pipeline group runs one micro-batch per stage, each with an engine's limits (the
// reference's virtual engines): g x max_num_seqs and g x the token budget per cycle.
int Instance::max_seqs() const { return ctx_.engine->max_num_seqs * stages(); }

bool Instance::can_admit(const Request* r) const {
  if (running_.size() >= max_seqs()) return false;
  const std::int64_t need = Request::blocks_for(r->prefill_target, ctx_.engine->block_size);
  if (admission_cap_ && kv_.used() + cohort_.blocks_needed(1) + need > *admission_cap_) return false;
  return kv_.free() - cohort_.blocks_needed(1) - need >= watermark_blocks_;
}

bool Instance::can_swap_in(const Request* r) const {
  if (running_.size() >= max_seqs()) return false;
  // Its blocks plus one for its next step, on top of what the current decodes need.
  return kv_.free() - cohort_.blocks_needed(1) - r->blocks - 1 >= watermark_blocks_;
}

void Instance::plan(SimTime now) {
  if (busy_ || paused_ || blocked_) return;
  bool prefilling = false;
  for (Request* r = running_.front(); r && !prefilling; r = r->next) prefilling = r->phase == Phase::Prefill;
  const bool admissible = (!swapped_.empty() && can_swap_in(swapped_.front())) ||
                          (!waiting_.empty() && can_admit(waiting_.front()));
  // Stale requests pay remote attention per layer; their cycles are priced one by one so their
  // link traffic interleaves with the KV exchange.
  if (prefilling || admissible || cohort_.blocks_needed(1) > kv_.free() || stale_decodes_ > 0) {
    run_iteration(now);
    return;
  }
  if (cohort_.size() == 0) return;  // nothing can run until something arrives
  // Only decodes until the next finish: nothing can be admitted before blocks are freed, and
  // blocks are freed only by a finish. Jump to it, or to where the blocks run out.
  const std::int64_t to_finish = cohort_.steps_to_next_finish();
  start_jump(now, cohort_.steps_fitting(kv_.free(), to_finish));
}

double Instance::price_ns(const BatchShape& s, int stale_tokens) const {
  if (members_.size() == 1) return ctx_.cost->iteration(s).sum() * 1e9;
  return pipeline_cycle_ns(*ctx_.cost, geometry_, s, stale_tokens);
}

SimTime Instance::book_links(const BatchShape& s, int stale_tokens, std::int64_t steps, SimTime start) {
  SimTime end = start;
  const int g = stages();
  if (g == 1 || s.tokens() == 0) return end;
  // Activations of every micro-batch cross each stage boundary; each TP rank sends its share.
  const int tp = static_cast<int>(members_[0].gpus.size());
  const std::int64_t act = ctx_.cost->activation_bytes(s.tokens()) / tp * steps;
  for (int r = 0; r + 1 < g; ++r)
    end = std::max(end, transfer_between(*ctx_.links, *ctx_.topology, members_[r], members_[r + 1], act, start));
  if (stale_tokens > 0) {
    const PipelineLinks& links = geometry_.links;
    for (int r = 0; r < g; ++r) {
      const int layers = stage_layers(r, g, ctx_.model->layers);
      for (int h = 0; h < g; ++h) {
        if (h == r || stale_decodes_by_home_[h] == 0) continue;
        const auto bytes = static_cast<std::int64_t>(stale_decodes_by_home_[h] * links.remote_bytes_per_token_layer *
                                                     layers / tp) * steps;
        end = std::max(end, transfer_between(*ctx_.links, *ctx_.topology, members_[r], members_[h], bytes, start));
      }
    }
  }
  return end;
}

DecodeRun Instance::price_decode_run(const BatchShape& s) const {
  if (members_.size() == 1) return ctx_.cost->decode_run(s);
  const double t0 = price_ns(s, 0);
  BatchShape next = s;
  next.decode_context_sum += s.num_decodes;
  return DecodeRun{t0, price_ns(next, 0) - t0};
}

void Instance::start_jump(SimTime now, std::int64_t steps) {
  if (steps < 1) throw std::logic_error("Instance: empty decode jump");
  shape_.prefills.clear();
  shape_.num_decodes = cohort_.size();
  shape_.decode_context_sum = cohort_.context_sum();
  shape_.layers = ctx_.model->layers;
  shape_.sampled = cohort_.size();
  jump_run_ = price_decode_run(shape_);
  probe_ = {};
  busy_ = true;
  work_ = Work::Jump;
  work_start_ = now;
  jump_steps_ = steps;
  // Link traffic of the whole run is booked at its start: a pipeline group jumps only when no
  // KV exchange shares its links (stale requests force step-by-step cycles).
  book_links(shape_, 0, steps, now);
  work_end_ = now + jump_run_.elapsed(steps);
  ctx_.events->schedule(work_end_, this, ++work_generation_);
}

SimTime Instance::transfer_per_gpu(std::int64_t bytes, bool to_host, SimTime now) {
  // Each GPU of the TP group moves its own heads' share over its own PCIe link, in parallel.
  SimTime end = now;
  for (int g : members_[0].gpus) {
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

void Instance::forget_stale(Request* r) {
  if (!r->stale()) return;
  members_[r->home].stale_blocks -= r->stale_blocks;
  if (r->phase == Phase::Decode) {
    --stale_decodes_by_home_[r->home];
    --stale_decodes_;
  }
  stale_.erase(r->id);
  r->home = -1;
  r->stale_blocks = 0;
}

void Instance::mark_exchanged(RequestId id) {
  auto it = stale_.find(id);
  if (it == stale_.end()) return;  // finished or preempted meanwhile
  forget_stale(it->second);
  refresh_capacity();
}

void Instance::preempt(Request* victim, SimTime now, SimTime& blocked_until) {
  const bool was_decoding = victim->phase == Phase::Decode;
  if (was_decoding) leave_cohort(victim);  // syncs generated and blocks
  forget_stale(victim);
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
  refresh_capacity();
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
  joined_.push_back(r);
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
  kv_.allocate(cohort_.blocks_needed(1));
  decoded_ = cohort_.size() > 0;
  std::int64_t budget = std::int64_t{e.max_num_batched_tokens} * stages() - cohort_.size();

  // 3. Running prefills continue, in admission order.
  shape_.prefills.clear();
  prefills_.clear();
  int finishing_prefills = 0, stale_tokens = stale_decodes_;
  for (Request* r = running_.front(); r && budget > 0; r = r->next) {
    if (r->phase != Phase::Prefill) continue;
    const int chunk = static_cast<int>(std::min<std::int64_t>(r->prefill_target - r->prefilled, budget));
    budget -= chunk;
    prefills_.emplace_back(r, chunk);
    shape_.prefills.push_back({chunk, r->prefilled});
    finishing_prefills += r->prefilled + chunk == r->prefill_target;
    if (r->stale()) stale_tokens += chunk;
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
  const SimTime compute = static_cast<SimTime>(std::llround(price_ns(shape_, stale_tokens)));
  busy_ = true;
  work_ = Work::Iteration;
  work_start_ = now;
  work_end_ = std::max(blocked_until + compute, book_links(shape_, stale_tokens, 1, blocked_until));
  ++counters_.iterations;
  ctx_.events->schedule(work_end_, this, ++work_generation_);
}

void Instance::handle_event(SimTime now, std::uint64_t arg) {
  if (retired_) return;
  if (arg == kKick) {
    kick_pending_ = false;
    plan(now);
    return;
  }
  if (!busy_ || arg != work_generation_) return;  // superseded by a cut jump
  counters_.busy_ns += now - work_start_;
  ctx_.observer->on_work(*this, work_start_, now, work_ == Work::Jump ? jump_steps_ : 1, shape_.num_decodes,
                         shape_.prefill_tokens());
  busy_ = false;
  if (work_ == Work::Jump) end_jump(now);
  else end_iteration(now);
  work_ = Work::None;
  if (!aborting_.empty()) abort_pending(now);
  if (on_paused_) {
    paused_ = true;
    auto cb = std::move(on_paused_);
    on_paused_ = nullptr;
    cb(now);
    return;
  }
  plan(now);
}

void Instance::release(Request* r) {
  forget_stale(r);
  kv_.release(r->blocks);
  r->blocks = 0;
  running_.erase(r);
  if (members_.size() > 1) refresh_capacity();
}

void Instance::finish(Request* r, SimTime now) {
  // Its client left during the step that completed it: the output reaches nobody.
  if (!aborting_.empty() && std::find(aborting_.begin(), aborting_.end(), std::pair{r, r->id}) != aborting_.end()) {
    const std::int64_t blocks = r->blocks;
    release(r);
    end_aborted(r, "finishing", blocks, now);
    return;
  }
  release(r);
  r->phase = Phase::Finished;
  r->finished = now;
  ctx_.observer->on_request_done(*r, now);
}

void Instance::abort(Request* r, SimTime now) {
  if (r->phase == Phase::Waiting) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), r));  // the oldest wait at the front
    queued_blocks_ -= Request::blocks_for(r->prefill_target, ctx_.engine->block_size);
    end_aborted(r, "waiting", 0, now);
  } else if (r->phase == Phase::Swapped) {
    swapped_.erase(std::find(swapped_.begin(), swapped_.end(), r));
    host_used_ -= r->blocks;
    end_aborted(r, "swapped out", std::exchange(r->blocks, 0), now);
  } else if (busy_) {
    aborting_.emplace_back(r, r->id);
    cut_jump(now);
    return;
  } else {
    abort_running(r, now);
  }
  kick(now);  // the queue's head, or the free blocks, changed
}

void Instance::abort_running(Request* r, SimTime now) {
  const char* where = r->phase == Phase::Decode ? "decoding" : "prefilling";
  if (r->phase == Phase::Decode) leave_cohort(r);  // syncs its blocks
  const std::int64_t blocks = r->blocks;
  release(r);
  end_aborted(r, where, blocks, now);
}

// After the step in flight: the aborted requests still running here leave.
void Instance::abort_pending(SimTime now) {
  for (auto [r, id] : aborting_)
    if (r->id == id && r->instance == id_ && (r->phase == Phase::Decode || r->phase == Phase::Prefill))
      abort_running(r, now);
  aborting_.clear();
}

void Instance::end_aborted(Request* r, const char* where, std::int64_t blocks, SimTime now) {
  r->phase = Phase::Aborted;
  if (r->first_token && *r->first_token >= now) r->first_token.reset();  // came after the client left
  decision(now, "abort", *r, std::string("client timeout while ") + where, blocks);
  ctx_.observer->on_request_done(*r, now);
}

void Instance::finish_decodes(SimTime now) {
  for (Request* r : cohort_.take_finished()) finish(r, now);
}

void Instance::leave_cohort(Request* r) {
  cohort_.remove(r);
  // Still in joined_ (left before its first step here): its last token time is already right.
  if (const auto it = std::find(joined_.begin(), joined_.end(), r); it != joined_.end()) {
    joined_.erase(it);
    return;
  }
  r->last_token = last_boundary_;
}

void Instance::report_gaps(SimTime first_end, const DecodeRun* rest, std::int64_t rest_steps) {
  // The first step: the cohort's settled members waited since the last boundary, joiners since
  // their own last token. Then every member waits each later step of a jump.
  const auto settled = static_cast<std::int64_t>(cohort_.size() - joined_.size());
  if (settled > 0 && last_boundary_ >= 0)
    ctx_.observer->on_token_gaps({static_cast<double>(first_end - last_boundary_), 0, 1, settled});
  for (const Request* j : joined_)
    if (j->last_token >= 0) ctx_.observer->on_token_gaps({static_cast<double>(first_end - j->last_token), 0, 1, 1});
  joined_.clear();
  if (rest && rest_steps > 0)
    ctx_.observer->on_token_gaps({rest->first_ns + rest->slope_ns, rest->slope_ns, rest_steps,
                                  static_cast<std::int64_t>(cohort_.size())});
}

void Instance::end_jump(SimTime now) {
  report_gaps(work_start_ + jump_run_.elapsed(1), &jump_run_, jump_steps_ - 1);
  last_boundary_ = now;
  kv_.allocate(cohort_.blocks_needed(jump_steps_));
  cohort_.advance(jump_steps_);
  ++counters_.jumps;
  counters_.jumped_steps += jump_steps_;
  finish_decodes(now);
}

void Instance::end_iteration(SimTime now) {
  if (decoded_) report_gaps(now, nullptr, 0);
  joined_.clear();
  last_boundary_ = now;
  if (decoded_) {
    cohort_.advance(1);
    finish_decodes(now);
  }
  for (auto [r, chunk] : prefills_) {
    r->prefilled += chunk;
    if (r->prefilled < r->prefill_target) continue;
    // A prefill after preemption (recompute) resumes a stream: its wait is an inter-token gap.
    if (r->generated > 0 && r->last_token >= 0)
      ctx_.observer->on_token_gaps({static_cast<double>(now - r->last_token), 0, 1, 1});
    r->last_token = now;
    r->generated += 1;  // the prefill's last position samples the next token
    if (!r->first_token) {
      r->first_token = now;
      ctx_.observer->on_first_token(*r, now);
    }
    if (r->generated >= r->output) {
      finish(r, now);
    } else {
      cohort_.add(r);
      if (r->stale()) {
        ++stale_decodes_by_home_[r->home];
        ++stale_decodes_;
      }
    }
  }
  prefills_.clear();
}

std::int64_t Instance::kv_used_at(SimTime t) const {
  if (work_ != Work::Jump) return kv_.used();
  // Dispatchers and samplers ask at non-decreasing times: advance from the last answer (a
  // step or two between arrivals) instead of solving for the step count each time.
  const SimTime offset = t - work_start_;
  if (probe_.offset > offset) probe_ = {};
  while (probe_.steps < jump_steps_ && jump_run_.elapsed(probe_.steps + 1) <= offset) {
    probe_.blocks += cohort_.blocks_needed_at(probe_.steps);
    ++probe_.steps;
  }
  probe_.offset = offset;
  return kv_.used() + probe_.blocks;
}

std::int64_t Instance::member_used_at(int m, SimTime t) const {
  const std::int64_t used = kv_used_at(t);
  if (members_.size() == 1) return used;
  std::int64_t stale = 0;
  for (const Member& x : members_) stale += x.stale_blocks;
  const auto g = static_cast<std::int64_t>(members_.size());
  return members_[m].stale_blocks + (used - stale + g - 1) / g;
}

std::int64_t Instance::request_count() const {
  return running_.size() + static_cast<std::int64_t>(waiting_.size() + swapped_.size());
}

std::vector<Request*> Instance::requests_in_flight() const {
  std::vector<Request*> out;
  for (Request* r = running_.front(); r; r = r->next) {
    if (r->phase == Phase::Decode) cohort_.sync(r);
    out.push_back(r);
  }
  out.insert(out.end(), swapped_.begin(), swapped_.end());
  out.insert(out.end(), waiting_.begin(), waiting_.end());
  return out;
}

std::vector<Request*> Instance::take_all() {
  if (busy_) throw std::logic_error("Instance: take_all while busy");
  std::vector<Request*> out;
  for (Request* r = running_.front(); r;) {
    Request* next = r->next;
    if (r->phase == Phase::Decode) leave_cohort(r);
    if (r->stale()) forget_stale(r);
    running_.erase(r);
    kv_.release(r->blocks);
    out.push_back(r);
    r = next;
  }
  out.insert(out.end(), swapped_.begin(), swapped_.end());
  out.insert(out.end(), waiting_.begin(), waiting_.end());
  swapped_.clear();
  waiting_.clear();
  queued_blocks_ = 0;
  host_used_ = 0;
  return out;
}

void Instance::adopt_running(Request* r) {
  r->instance = id_;
  kv_.allocate(r->blocks);
  running_.push_back(r);
  if (r->stale()) stale_[r->id] = r;
  if (r->phase == Phase::Decode) {
    cohort_.add(r);
    joined_.push_back(r);
    if (r->stale()) {
      ++stale_decodes_by_home_[r->home];
      ++stale_decodes_;
    }
  }
}

void Instance::adopt_waiting(Request* r) {
  r->instance = id_;
  r->phase = Phase::Waiting;
  r->prefill_target = r->prompt + r->generated;
  r->prefilled = 0;
  r->blocks = 0;
  auto pos = std::upper_bound(waiting_.begin(), waiting_.end(), r,
                              [](const Request* a, const Request* b) { return a->id < b->id; });
  waiting_.insert(pos, r);
  queued_blocks_ += Request::blocks_for(r->prefill_target, ctx_.engine->block_size);
}

Request* Instance::find_running(RequestId id) const {
  for (Request* r = running_.front(); r; r = r->next)
    if (r->id == id) return r;
  return nullptr;
}

void Instance::release_for_migration(Request* r) {
  if (busy_ || r->phase != Phase::Decode || r->stale())
    throw std::logic_error("Instance: migrating a request that is not a settled decode");
  leave_cohort(r);
  running_.erase(r);
  kv_.release(r->blocks);
}

bool Instance::reserve_blocks(std::int64_t n) {
  if (kv_.free() - n < watermark_blocks_) return false;
  kv_.allocate(n);
  reserved_blocks_ += n;
  return true;
}

void Instance::unreserve_blocks(std::int64_t n) {
  kv_.release(n);
  reserved_blocks_ -= n;
}

}  // namespace kunsim
