// StaleRequests: the requests of a KunServe pipeline group that were running when it fused.
// Their KV for all layers sits whole on their home member (Request::home) until the KV
// exchange lays it out per stage. Meanwhile either they wait (stalled: stall-exchange, as the
// reference runs them) or attention for them runs on their home (remote attention). The
// group's pool counts their blocks on their home; decodes paying remote attention are counted
// per home, since each stage pays remote attention to each home in proportion; stalled ones
// are counted apart, since they run nothing.
#pragma once
#include <map>
#include <vector>

#include "sim/serving/engine/member.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class StaleRequests {
 public:
  explicit StaleRequests(int members) : decodes_by_home_(members, 0) {}
  const std::map<RequestId, Request*>& all() const { return stale_; }  // ordered: deterministic
  bool empty() const { return stale_.empty(); }
  int decodes() const { return decodes_; }  // decoding by remote attention
  int stalled() const { return stalled_; }  // waiting for their exchange
  const int& count_ref() const { return count_; }
  const std::vector<int>& decodes_by_home() const { return decodes_by_home_; }

  void add(Request* r) {
    stale_[r->id] = r;
    ++count_;
    if (r->stalled)
      ++stalled_;
    else if (r->phase == Phase::Decode)
      counted(r, +1);
  }
  // A stale request's prefill finished: it decodes from now on (a stalled one runs no prefill).
  void started_decoding(const Request* r) {
    if (r->stale() && !r->stalled) counted(r, +1);
  }
  // `r` is no longer stale (finished, preempted, aborted, exchanged, moved): its blocks leave
  // its home's count, and it is no longer stalled. Call before changing its phase.
  void forget(Request* r, std::vector<Member>& members) {
    if (!r->stale()) return;
    members[r->home].stale_blocks -= r->stale_blocks;
    if (r->stalled)
      --stalled_;
    else if (r->phase == Phase::Decode)
      counted(r, -1);
    stale_.erase(r->id);
    --count_;
    r->home = -1;
    r->stale_blocks = 0;
    r->stalled = false;
  }

 private:
  void counted(const Request* r, int d) {
    decodes_by_home_[r->home] += d;
    decodes_ += d;
  }
  std::map<RequestId, Request*> stale_;
  std::vector<int> decodes_by_home_;
  int decodes_ = 0;
  int stalled_ = 0;
  int count_ = 0;  // stale_.size(), as an int the scheduler's view can refer to
};

}  // namespace kunsim
