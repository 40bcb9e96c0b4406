#include "sim/serving/engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/serving/reconfig/kunserve/micro_batches.hpp"
#include "sim/serving/reconfig/kunserve/pipeline_cost.hpp"

namespace kunsim {

namespace {
// Event args: kKick plans now; any other value ends the work in flight whose generation it
// carries. A cut jump gets a new generation, so its superseded end event is ignored when it
// comes up: cheaper than cancelling through the queue on this hot path.
constexpr std::uint64_t kKick = 0;
}  // namespace

Engine::Engine(int id, std::vector<Member> members, const ServingContext& ctx, std::int64_t host_swap_blocks)
    : id_(id),
      members_(std::move(members)),
      ctx_(ctx),
      kv_(0),
      swap_(host_swap_blocks),
      watermark_blocks_(0),
      cohort_(ctx.engine->block_size, static_cast<int>(members_.size())),
      stale_(static_cast<int>(members_.size())),
      scheduler_(make_vllm_scheduler(*ctx.engine)),
      queues_{running_,
              waiting_,
              swapped_,
              cohort_,
              kv_,
              watermark_blocks_,
              admission_cap_,
              stale_.count_ref(),
              static_cast<int>(members_.size())} {
  if (members_.empty()) throw std::logic_error("Engine: no members");
  watermark_blocks_ = ctx.engine->watermark_blocks(base_blocks(members_));
  kv_.watch(ctx.loads, id_);
  refresh_capacity();
  if (ctx.prefix_directory) kv_.attach_directory(ctx.prefix_directory, id_);
  geometry_ = {stages(), static_cast<int>(members_[0].gpus.size()), ctx.model->layers, PipelineLinks{}};
  if (members_.size() > 1) geometry_.links = pipeline_links(*ctx.topology, members_, *ctx.model);
  ve_load_.assign(members_.size(), 0);
  if (ctx.engine->speculative.on()) {
    decode_queries_ = ctx.engine->speculative.num_tokens + 1;
    cohort_.count_steps();
  }
  stepping_ = ctx.engine->step_through_jumps;
  gaps_ = TokenGapTracker(stages());
  check_memory();
}

void Engine::bind_ve(Request* r, bool keep) {
  if (!(keep && r->ve >= 0 && r->ve < stages()))
    r->ve = static_cast<int>(std::min_element(ve_load_.begin(), ve_load_.end()) - ve_load_.begin());
  ++ve_load_[static_cast<std::size_t>(r->ve)];
}

void Engine::unbind_ve(Request* r) {
  if (r->ve < 0) return;
  --ve_load_[static_cast<std::size_t>(r->ve)];
  r->ve = -1;
}

// Invariant: on every GPU, the weights it keeps + its KV blocks + workspace and reserve fit in
// the memory the engine may use, through every drop and restore.
void Engine::check_memory() const {
  check_members_fit(members_, *ctx_.model, *ctx_.memory, ctx_.engine->tp, id_);
}

std::vector<int> Engine::gpus() const {
  std::vector<int> out;
  for (const Member& m : members_) out.insert(out.end(), m.gpus.begin(), m.gpus.end());
  return out;
}

void Engine::refresh_capacity() { kv_.resize(pool_blocks(members_)); }

void Engine::enqueue(Request* r, SimTime now) {
  r->instance = id_;
  r->phase = Phase::Waiting;
  r->prefill_target = r->prompt + r->generated;
  r->prefilled = 0;
  bind_ve(r, false);
  waiting_.push_back(r);
  queued_blocks_ += r->blocks_at(r->prefill_target, ctx_.engine->block_size);
  load_changed();
  // Planned in an event of its own at this same instant: FIFO order at equal times runs it after
  // every arrival already due now, so simultaneous arrivals share the first iteration, as they
  // would in an engine whose step starts with all of them queued.
  if (!busy_) kick(now);
  else cut_jump(now);
}

void Engine::kick(SimTime now) {
  if (busy_ || paused_ || kick_pending_) return;
  kick_pending_ = true;
  ctx_.events->schedule(now, this, kKick);
}

// A jump assumed nothing would change; cut it at the first step boundary at or after now, where
// a step-by-step scheduler would first have seen the change.
void Engine::cut_jump(SimTime now) {
  if (work_ != Work::Jump) return;
  std::int64_t s = jump_run_.steps_by(now - work_start_);
  if (jump_run_.elapsed(s) < now - work_start_) ++s;
  s = std::max<std::int64_t>(s, 1);
  if (s < jump_steps_) {
    if (stepping()) {
      // The next step's event is already due, unless the jump is cut where it stands.
      jump_steps_ = std::max(s, jump_done_);
      load_changed();
      work_end_ = work_start_ + jump_run_.elapsed(jump_steps_);
      if (jump_steps_ == jump_done_) ctx_.events->schedule(now, this, ++work_generation_);
      return;
    }
    jump_steps_ = s;
    load_changed();
    work_end_ = work_start_ + jump_run_.elapsed(s);
    ctx_.events->schedule(work_end_, this, ++work_generation_);
  }
}

void Engine::pause(SimTime now, std::function<void(SimTime)> on_paused) {
  if (!busy_) {
    paused_ = true;
    on_paused(now);
    return;
  }
  on_paused_ = std::move(on_paused);
  cut_jump(now);
}

void Engine::resume(SimTime now) {
  paused_ = false;
  kick(now);
}

void Engine::plan(SimTime now) {
  if (busy_ || paused_ || blocked_) return;
  switch (scheduler_->next(queues_)) {
    case NextWork::Wait: return;  // nothing can run until something arrives
    case NextWork::Iteration: run_iteration(now); return;
    case NextWork::Jump:
      // Jump to the next finish, or to where the blocks run out.
      start_jump(now, cohort_.steps_fitting(kv_.free(), cohort_.steps_to_next_finish()));
      return;
  }
}

double Engine::price_ns(const BatchShape& s, int stale_tokens, std::int64_t ahead) const {
  if (members_.size() == 1) return ctx_.cost->iteration(s).sum() * 1e9;
  if (!by_virtual_engine()) return pipeline_cycle_ns(*ctx_.cost, geometry_, s, stale_tokens, &stale_.decodes_by_home());
  // Each virtual engine's micro-batch: its prefill chunks this step, or else its decodes.
  const int g = stages();
  micro_batches_.assign(static_cast<std::size_t>(g), BatchShape{});
  for (int v = 0; v < g; ++v) {
    BatchShape& mb = micro_batches_[static_cast<std::size_t>(v)];
    mb.layers = stage_layers(g - 1, g, ctx_.model->layers);
    mb.num_decodes = cohort_.sitting_out(v) ? 0 : cohort_.lane_size(v);
    mb.decode_context_sum = cohort_.lane_context_sum(v) + ahead * mb.num_decodes;
    mb.sampled = mb.num_decodes;
  }
  for (auto [r, chunk] : prefills_) {
    BatchShape& mb = micro_batches_[static_cast<std::size_t>(r->ve)];
    mb.prefills.push_back({chunk, r->prefilled});
    mb.sampled += r->prefilled + chunk == r->prefill_target;
  }
  return pipeline_cycle_ns(*ctx_.cost, geometry_, s, micro_batches_, stale_tokens, &stale_.decodes_by_home());
}

SimTime Engine::book_links(const BatchShape& s, int stale_tokens, std::int64_t steps, SimTime start) {
  return book_pipeline_links(ctx_, members_, geometry_, s, stale_tokens, stale_.decodes_by_home(), steps, start);
}

DecodeRun Engine::price_decode_run(const BatchShape& s) const {
  if (members_.size() == 1) return ctx_.cost->decode_run(s, cohort_.tokens_per_step());
  const double t0 = price_ns(s, 0);
  BatchShape next = s;
  next.decode_context_sum += s.num_decodes;
  return DecodeRun{t0, price_ns(next, 0, 1) - t0};
}

void Engine::start_jump(SimTime now, std::int64_t steps) {
  if (steps < 1) throw std::logic_error("Engine: empty decode jump");
  shape_.prefills.clear();
  shape_.num_decodes = cohort_.size();
  shape_.decode_context_sum = cohort_.context_sum();
  shape_.layers = ctx_.model->layers;
  shape_.decode_queries = decode_queries_;
  shape_.sampled = cohort_.size() * decode_queries_;  // logits at every verified position
  jump_run_ = price_decode_run(shape_);
  if (decode_queries_ > 1) note_drafting();
  probe_ = {};
  busy_ = true;
  work_ = Work::Jump;
  work_start_ = now;
  jump_steps_ = steps;
  load_changed();  // its kv_used_at now moves step by step
  // Link traffic of the whole run is booked at its start: a pipeline group jumps only when no
  // KV exchange shares its links (stale requests force step-by-step cycles).
  book_links(shape_, 0, steps, now);
  work_end_ = now + jump_run_.elapsed(steps);
  jump_done_ = 0;
  ctx_.events->schedule(stepping() ? now + jump_run_.elapsed(1) : work_end_, this, ++work_generation_);
}

void Engine::note_drafting() {
  draft_share_ = 0;
  if (shape_.num_decodes == 0) return;
  const IterationCost c = ctx_.cost->iteration(shape_);
  if (c.sum() > 0) draft_share_ = c.draft / c.sum();
}

void Engine::decision(SimTime now, DecisionKind kind, const Request& r, const std::string& reason,
                        std::int64_t blocks) {
  ctx_.observer->on_decision({now,
                              kind,
                              DecisionPhase::None,
                              {{"instance", id_},
                               {"request", r.id},
                               {"blocks", blocks},
                               {"kv_used", kv_.used()},
                               {"kv_capacity", kv_.capacity()},
                               {"reason", reason}}});
}

void Engine::preempt(Request* victim, SimTime now, SimTime& blocked_until) {
  const bool was_decoding = victim->phase == Phase::Decode;
  if (was_decoding) leave_cohort(victim);  // syncs generated and blocks
  let_go_prefix(victim);
  stale_.forget(victim, members_);
  running_.erase(victim);
  ++counters_.preemptions;
  ++victim->preemptions;
  // A swap copies its whole KV out, its cached prefix too (vLLM copies every block it holds),
  // but a prefix block already on the host once; the cached prefix also stays here, evictable,
  // unless someone else holds it.
  const std::int64_t blocks = victim->blocks + victim->cached_blocks();
  PreemptDecision d{PreemptMode::Recompute, "prefill in progress: nothing to keep"};
  if (was_decoding) d = ctx_.policy->on_preempt(*this, *victim);
  if (d.mode == PreemptMode::Swap && !swap_.fits(swap_.blocks_to_swap_out(*victim))) {
    d = {PreemptMode::Recompute, "swap space full (" + std::to_string(swap_.used()) + "/" +
                                     std::to_string(swap_.capacity()) + " blocks): recompute instead"};
  }
  kv_.release(victim->blocks);
  refresh_capacity();
  if (d.mode == PreemptMode::Swap) {
    swap_stall(swap_.swap_out(ctx_, members_[0], *victim, now), blocked_until);
    victim->phase = Phase::Swapped;
    ++victim->swaps;
    ++counters_.swaps_out;
    swapped_.push_back(victim);
    decision(now, DecisionKind::SwapOut, *victim, d.reason, blocks);
    return;
  }
  ++counters_.recomputes;
  victim->blocks = 0;
  victim->cached_keys = 0;
  victim->phase = Phase::Waiting;
  victim->prefill_target = victim->prompt + victim->generated;
  victim->prefilled = 0;
  waiting_.push_front(victim);
  queued_blocks_ += victim->blocks_at(victim->prefill_target, ctx_.engine->block_size);
  load_changed();
  decision(now, DecisionKind::Preempt, *victim, "out of KV blocks; recompute: " + d.reason, blocks);
}

void Engine::swap_stall(SimTime copy_end, SimTime& blocked_until) {
  if (ctx_.policy->swaps_overlap_compute()) overlap_until_ = std::max(overlap_until_, copy_end);
  else blocked_until = std::max(blocked_until, copy_end);
}

void Engine::swap_in(Request* r, SimTime now, SimTime& blocked_until) {
  swapped_.pop_front();
  // Its cached prefix comes back from the host only where it is no longer cached here.
  const std::int64_t brought = hold_prefix(r);
  kv_.allocate(r->blocks);
  swap_stall(swap_.swap_in(ctx_, members_[0], *r, r->blocks + brought, now), blocked_until);
  ++counters_.swaps_in;
  running_.push_back(r);
  cohort_.add(r);
  gaps_.joined(r);
  decision(now, DecisionKind::SwapIn, *r, "blocks free again", r->blocks);
}

void Engine::run_iteration(SimTime now) {
  SimTime blocked_until = now;
  overlap_until_ = now;
  bool preempted = false;
  // 1. Every decode runs; free blocks for their growth by preempting the newest requests.
  while (cohort_.blocks_needed(1) > kv_.free()) {
    if (running_.empty()) throw std::logic_error("Engine: decodes need blocks but nothing runs");
    preempt(running_.back(), now, blocked_until);
    preempted = true;
  }
  // 2. Swapped requests come back first (vLLM's order), unless this step had to preempt.
  while (!preempted && !swapped_.empty() && scheduler_->can_swap_in(queues_, *swapped_.front()))
    swap_in(swapped_.front(), now, blocked_until);
  kv_.allocate(cohort_.blocks_needed(1));
  decoded_ = cohort_.size() > 0;
  // A group of virtual engines gives each its own budget: a step of one is prefill-only or
  // decode-only, so its decodes never count against its prefills.
  const bool by_ve = by_virtual_engine();
  // A speculating decode spends k + 1 of the step's tokens (vLLM schedules its drafts as tokens).
  std::int64_t budget = scheduler_->token_budget(queues_) - std::int64_t{cohort_.size()} * decode_queries_;
  if (by_ve) ve_budget_.assign(ve_load_.size(), scheduler_->token_budget(queues_) / stages());

  // 3. Running prefills continue, in admission order. They are the newest admissions as a rule,
  //    so the oldest is found walking back from the tail, not past every decode from the head.
  shape_.prefills.clear();
  prefills_.clear();
  int finishing_prefills = 0, stale_tokens = stale_.decodes();
  Request* oldest_prefill = nullptr;
  int unseen = running_.prefilling();
  for (Request* r = running_.back(); r && unseen > 0; r = r->prev)
    if (r->phase == Phase::Prefill) {
      oldest_prefill = r;
      --unseen;
    }
  for (Request* r = oldest_prefill; r && (by_ve || budget > 0); r = r->next) {
    if (r->phase != Phase::Prefill || r->stalled) continue;
    std::int64_t& left = by_ve ? ve_budget_[static_cast<std::size_t>(r->ve)] : budget;
    if (left <= 0) continue;
    const int chunk = take_chunk(r, left, finishing_prefills);
    if (r->stale()) stale_tokens += chunk;
  }
  // 4. Admit waiting requests FCFS (head-of-line: the first that does not fit stops admission).
  //    After a preemption vLLM admits nothing new, unless the batch would otherwise be empty.
  const bool allow_admit =
      !preempted || scheduler_->admit_after_preemption(queues_, cohort_.size() == 0 && prefills_.empty());
  if (by_ve) {
    if (allow_admit) admit_by_virtual_engine(now, finishing_prefills);
    sit_out_prefilling_engines(stale_tokens);
  }
  while (!by_ve && allow_admit && budget > 0 && !waiting_.empty() &&
         scheduler_->can_admit(queues_, *waiting_.front())) {
    Request* r = waiting_.front();
    waiting_.pop_front();
    admit(r, now);
    take_chunk(r, budget, finishing_prefills);
  }
  // 5. A pipeline group's live KV exchange: this step's share, before (and so on the critical
  //    path of) its forwards.
  const SimTime forwards =
      exchange_ ? exchange_->begin_step(ctx_, members_, pipeline_port_, blocked_until) : blocked_until;
  const bool exchanging = exchange_ && exchange_->exchanging();
  if (!decoded_ && prefills_.empty() && !exchanging) {
    // Everything was preempted away, or only stalled requests are left: wait for work.
    if (stale_.stalled() > 0) recompute_a_stalled_request(now);
    return;
  }

  shape_.num_decodes = cohort_.running();
  shape_.decode_context_sum = cohort_.running_context_sum();
  shape_.layers = ctx_.model->layers;
  shape_.decode_queries = decode_queries_;
  shape_.sampled = shape_.num_decodes * decode_queries_ + finishing_prefills;
  const SimDuration compute = decoded_ || !prefills_.empty() ? round_ns(price_ns(shape_, stale_tokens)) : SimDuration{};
  if (decode_queries_ > 1) note_drafting();
  busy_ = true;
  work_ = Work::Iteration;
  work_start_ = now;
  work_end_ = std::max({forwards + compute, book_links(shape_, stale_tokens, 1, forwards), overlap_until_});
  ++counters_.iterations;
  ctx_.events->schedule(work_end_, this, ++work_generation_);
}

void Engine::admit(Request* r, SimTime now) {
  queued_blocks_ -= r->blocks_at(r->prefill_target, ctx_.engine->block_size);
  // Admission reserves a speculating request's lookahead as well, as its decodes will hold it.
  const std::int64_t all_blocks = r->running_blocks_for(r->prefill_target, ctx_.engine->block_size);
  load_changed();
  r->prefilled = 0;
  counters_.prefix_queried_tokens += r->prefill_target;
  if (!r->prefix.empty()) admit_prefix(r);  // its prefill starts after its cached prefix
  r->blocks = all_blocks - r->cached_blocks();
  kv_.allocate(r->blocks);
  r->phase = Phase::Prefill;
  if (!r->scheduled) r->scheduled = now;
  running_.push_back(r);
}

int Engine::take_chunk(Request* r, std::int64_t& budget, int& finishing_prefills) {
  const int chunk = static_cast<int>(std::min<std::int64_t>(r->prefill_target - r->prefilled, budget));
  budget -= chunk;
  prefills_.emplace_back(r, chunk);
  shape_.prefills.push_back({chunk, r->prefilled});
  finishing_prefills += r->prefilled + chunk == r->prefill_target;
  return chunk;
}

void Engine::admit_by_virtual_engine(SimTime now, int& finishing_prefills) {
  ve_refused_.assign(ve_load_.size(), 0);
  int open = 0;
  for (std::int64_t b : ve_budget_) open += b > 0;
  // One walk of the shared queue in arrival order; an engine closes when its budget is spent or
  // its head does not fit, and the walk stops once every engine is closed. An engine with nothing
  // waiting never closes, so the walk can reach the queue's end: O(waiting) a step at worst, as
  // the running list's walk is (per-engine queues would bound it by the admitted).
  for (auto it = waiting_.begin(); open > 0 && it != waiting_.end();) {
    Request* r = *it;
    const auto v = static_cast<std::size_t>(r->ve);
    if (ve_budget_[v] <= 0 || ve_refused_[v]) {
      ++it;
      continue;
    }
    if (!scheduler_->can_admit(queues_, *r)) {
      ve_refused_[v] = 1;
      --open;
      ++it;
      continue;
    }
    it = waiting_.erase(it);
    admit(r, now);
    take_chunk(r, ve_budget_[v], finishing_prefills);
    if (ve_budget_[v] <= 0) --open;
  }
}

void Engine::sit_out_prefilling_engines(int& stale_tokens) {
  if (prefills_.empty()) return;
  const std::int64_t growth = cohort_.blocks_needed(1);
  for (const auto& [r, chunk] : prefills_) {
    if (cohort_.sitting_out(r->ve)) continue;
    cohort_.sit_out(r->ve);
    stale_tokens -= stale_.decodes_by_home()[static_cast<std::size_t>(r->ve)];  // stale decodes stay home
  }
  kv_.release(growth - cohort_.blocks_needed(1));  // their next token's blocks, not needed yet
  decoded_ = cohort_.running() > 0;
}

void Engine::handle_event(SimTime now, std::uint64_t arg) {
  if (retired_) return;
  if (arg == kKick) {
    kick_pending_ = false;
    plan(now);
    return;
  }
  if (!busy_ || arg != work_generation_) return;  // superseded by a cut jump
  if (work_ == Work::Jump && stepping()) {
    if (jump_done_ < jump_steps_) run_jump_step(now);
    if (jump_done_ < jump_steps_) {
      load_changed();
      ctx_.events->schedule(work_start_ + jump_run_.elapsed(jump_done_ + 1), this, work_generation_);
      return;
    }
  }
  counters_.busy_ns += now - work_start_;
  if (draft_share_ > 0) {
    counters_.speculating_ns += now - work_start_;
    counters_.draft_ns +=
        SimDuration::from_ns(std::llround(draft_share_ * static_cast<double>((now - work_start_).ns())));
  }
  ctx_.observer->on_work(*this, work_start_, now, work_ == Work::Jump ? jump_steps_ : 1, shape_.num_decodes,
                         shape_.prefill_tokens());
  busy_ = false;
  if (work_ == Work::Jump) end_jump(now);
  else end_iteration(now);
  work_ = Work::None;
  load_changed();
  if (!aborting_.empty()) abort_pending(now);
  if (!inbox_.empty()) take_inbox(now);
  if (on_paused_) {
    paused_ = true;
    auto cb = std::move(on_paused_);
    on_paused_ = nullptr;
    cb(now);
    return;
  }
  plan(now);
}

void Engine::release(Request* r) {
  unbind_ve(r);
  let_go_prefix(r);
  r->cached_keys = 0;
  stale_.forget(r, members_);
  kv_.release(r->blocks);
  r->blocks = 0;
  running_.erase(r);
  if (members_.size() > 1) refresh_capacity();
}

void Engine::finish(Request* r, SimTime now) {
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
  memory_freed(now);
}

void Engine::finish_decodes(SimTime now) {
  for (Request* r : cohort_.take_finished()) finish(r, now);
}

void Engine::leave_cohort(Request* r) {
  if (r->stalled) return;  // never joined: its outputs, blocks and last token are as they were
  cohort_.remove(r);
  gaps_.left(r);
}

void Engine::run_jump_step(SimTime now) {
  gaps_.steps_done(*ctx_.observer, cohort_, now, nullptr, 0);
  gaps_.boundary(now, cohort_);
  kv_.allocate(cohort_.blocks_needed(1));
  cohort_.advance(1);
  ++jump_done_;
  probe_ = {.offset = SimDuration{}, .steps = jump_done_, .blocks = 0};  // kv_ now holds that step's blocks
  finish_decodes(now);
}

void Engine::end_jump(SimTime now) {
  if (!stepping()) {
    gaps_.steps_done(*ctx_.observer, cohort_, work_start_ + jump_run_.elapsed(1), &jump_run_, jump_steps_ - 1);
    gaps_.boundary(now, cohort_);
    kv_.allocate(cohort_.blocks_needed(jump_steps_));
    cohort_.advance(jump_steps_);
  }
  ++counters_.jumps;
  counters_.jumped_steps += jump_steps_;
  finish_decodes(now);
}

void Engine::end_iteration(SimTime now) {
  if (decoded_) gaps_.steps_done(*ctx_.observer, cohort_, now, nullptr, 0);
  gaps_.boundary(now, cohort_);
  if (decoded_) {
    cohort_.advance(1);
    finish_decodes(now);
  } else {
    cohort_.clear_sitting();
  }
  for (auto [r, chunk] : prefills_) {
    r->prefilled += chunk;
    cache_prefilled(r);
    if (r->prefilled < r->prefill_target) continue;
    // A prefill after preemption (recompute) resumes a stream: its wait is an inter-token gap.
    if (r->generated > 0) TokenGapTracker::resumed(*ctx_.observer, r, now);
    r->gap_spans_drop = false;
    r->last_token = now;
    r->generated += 1;  // the prefill's last position samples the next token
    if (!r->prefill_done) r->prefill_done = now;
    if (ctx_.hands_off && r->generated < r->output) {
      offer_handoff(r, now);  // its first token comes from the decode instance
      continue;
    }
    if (!r->first_token) {
      r->first_token = now;
      ctx_.observer->on_first_token(*r, now);
    }
    if (r->generated >= r->output) {
      finish(r, now);
    } else {
      running_.prefill_done(r);
      cohort_.add(r);
      gaps_.started(r, now);
      stale_.started_decoding(r);
    }
  }
  prefills_.clear();
  if (exchange_) {
    exchange_->end_step(pipeline_port_);  // those exchanged run from the next step on
    if (stale_.empty()) {
      ctx_.observer->on_decision(
          {now, DecisionKind::KvExchange, DecisionPhase::Done, exchange_->done_fields(id_, now)});
      exchange_.reset();
    }
  }
}

void Engine::recompute_a_stalled_request(SimTime now) {
  Request* victim = nullptr;
  for (const auto& [id, r] : stale_.all())
    if (r->stalled && (!victim || r->blocks > victim->blocks)) victim = r;
  SimTime unused = now;
  preempt(victim, now, unused);
  kick(now);
}

SimDuration Engine::swap_copy_time(std::int64_t blocks) const {
  // One way over the PCIe route of its first GPU, as SwapSpace books a copy.
  const Route& pcie = ctx_.topology->gpu_to_host(members_[0].gpus[0]);
  return ctx_.links->duration(pcie, blocks * ctx_.memory->block_bytes);
}

int Engine::cached_prefix_keys(const Request& r) const {
  return kv_.prefixes().match(r.prefix.data(), static_cast<int>(r.prefix.size()), 0);
}

// Inlined into kv_load_at and next_load_step: dispatchers weigh every engine through them at
// every arrival.
[[gnu::always_inline]] inline std::int64_t Engine::kv_used_at(SimTime t) const {
  if (work_ != Work::Jump) return kv_.used();
  // Dispatchers and samplers ask at non-decreasing times: advance from the last answer (a
  // step or two between arrivals) instead of solving for the step count each time. (Stepping
  // through a jump, the cohort and kv_ stand after jump_done_ of its steps.)
  const SimDuration offset = t - work_start_;
  if (probe_.offset > offset) probe_ = {.offset = SimDuration{}, .steps = jump_done_, .blocks = 0};
  while (probe_.steps < jump_steps_ && jump_run_.elapsed(probe_.steps + 1) <= offset) {
    probe_.blocks += cohort_.blocks_needed_at(probe_.steps - jump_done_);
    ++probe_.steps;
  }
  probe_.offset = offset;
  return kv_.used() + probe_.blocks;
}

SimTime Engine::next_load_step(SimTime t) const {
  if (work_ != Work::Jump) return kSimTimeMax;
  kv_used_at(t);  // the probe, at t
  if (probe_.steps >= jump_steps_) return kSimTimeMax;
  return work_start_ + jump_run_.elapsed(probe_.steps + 1);
}

EngineView::KvLoad Engine::kv_load_at(SimTime t) const { return {kv_used_at(t), queued_blocks_, kv_.capacity()}; }

std::int64_t Engine::member_used_at(int m, SimTime t) const { return member_blocks(members_, m, kv_used_at(t)); }

}  // namespace kunsim
