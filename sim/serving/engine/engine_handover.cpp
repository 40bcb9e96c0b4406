// Engine, continued: requests that leave other than by finishing (aborts by clients that gave
// up, a prefilled request offered for its KV hand-off), requests that arrive other than by
// dispatch (a hand-off received, a running request adopted), blocks reserved for them, and
// the walks over every request here. The ports (pipeline_port.cpp, migration_end.cpp,
// handoff_end.cpp, fusion_port.cpp) build on these. The step loop (planning, iterations,
// decode jumps, pricing, finishes) is engine.cpp.
#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

void Engine::abort(Request* r, SimTime now) {
  if (r->phase == Phase::Handoff) {
    // Still held here for its hand-off (the transfer, if any, finds it gone), or arrived and
    // waiting for the next step boundary with its reservation.
    std::int64_t blocks = r->blocks + r->cached_blocks();
    if (handing_off_.erase(r->id) > 0) {
      let_go_prefix(r);
      r->cached_keys = 0;
      kv_.release(r->blocks);
      r->blocks = 0;
    } else {
      auto it = std::find_if(inbox_.begin(), inbox_.end(), [r](const auto& in) { return in.first == r; });
      blocks = it->second;
      unreserve_blocks(it->second);
      inbox_.erase(it);
    }
    end_aborted(r, "awaiting its KV hand-off", blocks, now);
  } else if (r->phase == Phase::Waiting) {
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), r));  // the oldest wait at the front
    queued_blocks_ -= r->blocks_at(r->prefill_target, ctx_.engine->block_size);
    load_changed();
    end_aborted(r, "waiting", 0, now);
  } else if (r->phase == Phase::Swapped) {
    swapped_.erase(std::find(swapped_.begin(), swapped_.end(), r));
    const std::int64_t blocks = r->blocks + r->cached_blocks();
    swap_.release(*r);
    r->blocks = 0;
    r->cached_keys = 0;
    end_aborted(r, "swapped out", blocks, now);
  } else if (busy_) {
    aborting_.emplace_back(r, r->id);
    cut_jump(now);
    return;
  } else {
    abort_running(r, now);
  }
  kick(now);  // the queue's head, or the free blocks, changed
}

void Engine::abort_running(Request* r, SimTime now) {
  const char* where = r->phase == Phase::Decode ? "decoding" : "prefilling";
  if (r->phase == Phase::Decode) leave_cohort(r);  // syncs its blocks
  const std::int64_t blocks = r->blocks;
  release(r);
  end_aborted(r, where, blocks, now);
}

// After the step in flight: the aborted requests still running here leave.
void Engine::abort_pending(SimTime now) {
  for (auto [r, id] : aborting_)
    if (r->id == id && r->instance == id_ && (r->phase == Phase::Decode || r->phase == Phase::Prefill))
      abort_running(r, now);
  aborting_.clear();
}

void Engine::end_aborted(Request* r, const char* where, std::int64_t blocks, SimTime now) {
  unbind_ve(r);
  r->phase = Phase::Aborted;
  if (r->first_token && *r->first_token >= now) r->first_token.reset();  // came after the client left
  decision(now, DecisionKind::Abort, *r, std::string("client timeout while ") + where, blocks);
  ctx_.observer->on_request_done(*r, now);
  memory_freed(now);
}

// ---- disaggregated serving: the two ends of a KV hand-off ----

void Engine::offer_handoff(Request* r, SimTime now) {
  running_.erase(r);  // its blocks stay allocated until the decode instance has them
  r->phase = Phase::Handoff;
  handing_off_.emplace(r->id, r);
  ctx_.handoffs->offer(*this, r, work_start_, now);
}

void Engine::take_inbox(SimTime now) {
  for (auto [r, reserved] : inbox_) {
    unreserve_blocks(reserved);  // at least what adopting it allocates
    r->phase = Phase::Decode;
    r->last_token = now;
    if (!ctx_.engine->enable_prefix_caching) {  // its shared prefix is a private copy here
      r->blocks += r->cached_blocks();
      r->cached_keys = 0;
    }
    if (!r->first_token) {
      r->first_token = now;
      ctx_.observer->on_first_token(*r, now);
    }
    adopt_running(r);
  }
  inbox_.clear();
  kick(now);
}

std::int64_t Engine::request_count() const {
  return running_.size() + static_cast<std::int64_t>(waiting_.size() + swapped_.size() + handing_off_.size() + inbox_.size());
}

std::vector<Request*> Engine::requests_in_flight() const {
  std::vector<Request*> out;
  for_each_request([&](Request* r) { out.push_back(r); });
  return out;
}

void Engine::each_request(const std::function<void(const Request&)>& visit) const {
  for_each_request([&](const Request* r) { visit(*r); });
}

template <class Visit>
void Engine::for_each_request(Visit visit) const {
  for (Request* r = running_.front(); r; r = r->next) {
    if (in_cohort(r)) cohort_.sync(r);
    visit(r);
  }
  for (Request* r : swapped_) visit(r);
  for (Request* r : waiting_) visit(r);
  for (const auto& [id, r] : handing_off_) visit(r);
  for (const auto& in : inbox_) visit(in.first);
}

void Engine::adopt_running(Request* r) {
  r->instance = id_;
  bind_ve(r, true);
  hold_prefix(r);
  kv_.allocate(r->blocks);
  running_.push_back(r);
  if (r->stale()) stale_.add(r);
  if (in_cohort(r)) {
    cohort_.add(r);
    gaps_.joined(r);
  }
}

void Engine::check_virtual_engines() const {
  if (!running_.counts_hold()) throw std::logic_error("Engine: running prefills miscounted");
  // Bound from arrival (or adoption) until it leaves; a hand-off's inbox is adopted, and bound,
  // at the next step boundary.
  std::vector<std::int64_t> bound(ve_load_.size(), 0);
  auto count = [&](const Request* r) {
    if (r->ve < 0 || r->ve >= stages()) throw std::logic_error("Engine: a request bound to no virtual engine here");
    ++bound[static_cast<std::size_t>(r->ve)];
  };
  for (const Request* r = running_.front(); r; r = r->next) count(r);
  for (const Request* r : swapped_) count(r);
  for (const Request* r : waiting_) count(r);
  for (const auto& [id, r] : handing_off_) count(r);
  if (bound != ve_load_) throw std::logic_error("Engine: virtual engine loads miscounted");
}

bool Engine::reserve_blocks(std::int64_t n) {
  // A decode jump in flight books its growth when it ends: that room is spoken for.
  const std::int64_t claimed = work_ == Work::Jump ? cohort_.blocks_needed(jump_steps_left()) : 0;
  if (kv_.free() - claimed - n < watermark_blocks_) return false;
  kv_.allocate(n);
  reserved_blocks_ += n;
  return true;
}

void Engine::unreserve_blocks(std::int64_t n) {
  kv_.release(n);
  reserved_blocks_ -= n;
}

}  // namespace kunsim
