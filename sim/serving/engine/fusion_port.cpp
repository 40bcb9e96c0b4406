#include "sim/serving/engine/fusion_port.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

void FusionPort::adopt_running(Request* r) { e_.adopt_running(r); }
void FusionPort::set_state(std::string s) { e_.state_ = std::move(s); }
void FusionPort::set_admission_cap(std::optional<std::int64_t> cap) { e_.admission_cap_ = cap; }

void FusionPort::retire() {
  e_.retired_ = true;
  e_.kv_.detach_directory();
}

std::vector<Request*> FusionPort::take_all() {
  if (e_.busy_) throw std::logic_error("Engine: take_all while busy");
  if (!e_.handing_off_.empty() || !e_.inbox_.empty()) throw std::logic_error("Engine: take_all with hand-offs under way");
  std::vector<Request*> out;
  for (Request* r = e_.running_.front(); r;) {
    Request* next = r->next;
    if (r->phase == Phase::Decode) e_.leave_cohort(r);
    e_.let_go_prefix(r);  // it holds them again wherever it is adopted
    e_.stale_.forget(r, e_.members_);
    e_.running_.erase(r);
    e_.kv_.release(r->blocks);
    out.push_back(r);
    r = next;
  }
  for (Request* r : e_.swapped_) r->cached_keys = 0;  // its host copy is dropped: it prefills again
  out.insert(out.end(), e_.swapped_.begin(), e_.swapped_.end());
  out.insert(out.end(), e_.waiting_.begin(), e_.waiting_.end());
  e_.swapped_.clear();
  e_.waiting_.clear();
  std::fill(e_.ve_load_.begin(), e_.ve_load_.end(), 0);  // each is bound again where it is adopted
  e_.queued_blocks_ = 0;
  e_.load_changed();
  e_.swap_.clear();
  return out;
}

void FusionPort::adopt_waiting(Request* r) {
  r->instance = e_.id_;
  r->phase = Phase::Waiting;
  r->prefill_target = r->prompt + r->generated;
  r->prefilled = 0;
  r->blocks = 0;
  r->cached_keys = 0;
  e_.bind_ve(r, true);
  auto pos = std::upper_bound(e_.waiting_.begin(), e_.waiting_.end(), r,
                              [](const Request* a, const Request* b) { return a->id < b->id; });
  e_.waiting_.insert(pos, r);
  e_.queued_blocks_ += r->blocks_at(r->prefill_target, e_.ctx_.engine->block_size);
  e_.load_changed();
}

}  // namespace kunsim
