#include "sim/serving/engine/pipeline_port.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

const std::map<RequestId, Request*>& PipelinePort::stale() const { return e_.stale_.all(); }

// A stale request's cached prefix is its home's copy (keys salted by home); exchanged, it holds
// the group's per-stage entries, which the first request to need them brings.
bool PipelinePort::exchange_fits(const Request& r) const {
  if (!r.stale()) return false;
  std::vector<Member> after = e_.members_;
  const std::int64_t home_copies = e_.kv_.prefixes().sole_blocks_in(r.prefix.data(), r.cached_keys, e_.prefix_salt(r));
  after[r.home].stale_blocks -= r.stale_blocks + home_copies;
  return pool_blocks(after) >= e_.kv_.used() - home_copies + e_.kv_.blocks_to_hold(r, r.cached_keys);
}

std::int64_t PipelinePort::exchange_blocks(const Request& r, int owner, std::unordered_set<std::uint64_t>& sent) const {
  std::int64_t n = r.stale_blocks;
  const PrefixCache& c = e_.kv_.prefixes();
  const std::uint64_t owner_salt = static_cast<std::uint64_t>(owner) + 1;
  for (int k = 0; k < r.cached_keys; ++k) {
    const std::uint64_t* key = &r.prefix[k];
    // Already laid out per stage, or the owner holds a whole copy as some request's home.
    if (c.match(key, 1, 0) || c.match(key, 1, owner_salt)) continue;
    if (sent.insert(*key).second) n += r.prefix_unit;
  }
  return n;
}

bool PipelinePort::mark_exchanged(RequestId id) {
  auto it = e_.stale_.all().find(id);
  if (it == e_.stale_.all().end()) return false;  // finished or preempted meanwhile
  Request* r = it->second;
  if (!exchange_fits(*r)) return false;  // no room on the peers now: retried later
  const bool was_stalled = r->stalled;
  e_.let_go_prefix(r);
  e_.stale_.forget(r, e_.members_);
  e_.refresh_capacity();
  e_.hold_prefix(r);
  if (was_stalled && r->phase == Phase::Decode) {  // it decodes again from the next step
    e_.cohort_.add(r);
    e_.gaps_.joined(r);
  }
  return true;
}

void PipelinePort::exchange_in_steps(StepExchangeSettings s, SimTime now) {
  if (e_.stale_.empty()) return;
  e_.exchange_.emplace(s, now);
}

void PipelinePort::set_micro_batching(MicroBatching m) { e_.micro_batching_ = m; }

void PipelinePort::set_blocked(bool blocked, SimTime now) {
  e_.blocked_ = blocked;
  if (!e_.blocked_) e_.resume(now);
}

}  // namespace kunsim
