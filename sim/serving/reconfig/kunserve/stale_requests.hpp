// StaleRequests: the requests of a KunServe pipeline group that were running when it fused.
// Their KV for all layers sits whole on their home member (Request::home), so attention for
// them runs there (remote attention), until the KV exchange lays their KV out per stage. The
// group's pool counts their blocks on their home; decodes among them are counted per home,
// since each stage pays remote attention to each home in proportion.
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
  int decodes() const { return decodes_; }
  const int& decodes_ref() const { return decodes_; }
  const std::vector<int>& decodes_by_home() const { return decodes_by_home_; }

  void add(Request* r) {
    stale_[r->id] = r;
    if (r->phase == Phase::Decode) counted(r, +1);
  }
  // A stale request's prefill finished: it decodes from now on.
  void started_decoding(const Request* r) {
    if (r->stale()) counted(r, +1);
  }
  // `r` is no longer stale (finished, preempted, aborted, exchanged, moved): its blocks leave
  // its home's count. Call before changing its phase.
  void forget(Request* r, std::vector<Member>& members) {
    if (!r->stale()) return;
    members[r->home].stale_blocks -= r->stale_blocks;
    if (r->phase == Phase::Decode) counted(r, -1);
    stale_.erase(r->id);
    r->home = -1;
    r->stale_blocks = 0;
  }

 private:
  void counted(const Request* r, int d) {
    decodes_by_home_[r->home] += d;
    decodes_ += d;
  }
  std::map<RequestId, Request*> stale_;
  std::vector<int> decodes_by_home_;
  int decodes_ = 0;
};

}  // namespace kunsim
