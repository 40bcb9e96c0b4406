// RunningList: an instance's running requests in admission order, linked through the requests
// themselves, so removal at finish is O(1) and the preemption victim (the newest, as vLLM picks
// it) is the tail.
//
// It also counts the running prefills, so the scheduler asks "is a prefill running?" without a
// walk over the list. A walk per step was cheap on one engine and half the run at a thousand:
// each link is a cache miss when the fleet's requests no longer fit the cache. A request counts
// as a prefill while it is in the list with Phase::Prefill; the one change of phase inside the
// list (its prompt done, it decodes) is told through prefill_done().
#pragma once
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class RunningList {
 public:
  bool empty() const { return head_ == nullptr; }
  int size() const { return size_; }
  int prefilling() const { return prefilling_; }
  Request* front() const { return head_; }
  Request* back() const { return tail_; }
  void push_back(Request* r) {
    r->prev = tail_;
    r->next = nullptr;
    (tail_ ? tail_->next : head_) = r;
    tail_ = r;
    ++size_;
    if (r->phase == Phase::Prefill) ++prefilling_;
  }
  void erase(Request* r) {
    (r->prev ? r->prev->next : head_) = r->next;
    (r->next ? r->next->prev : tail_) = r->prev;
    r->prev = r->next = nullptr;
    --size_;
    if (r->phase == Phase::Prefill) --prefilling_;
  }
  // `r`, in this list, is about to leave Phase::Prefill without leaving the list.
  void prefill_done(const Request* r) {
    if (r->phase == Phase::Prefill) --prefilling_;
  }
  // The count against a walk (the debug builds' conservation check).
  bool counts_hold() const {
    int n = 0, prefills = 0;
    for (const Request* r = head_; r; r = r->next) {
      ++n;
      prefills += r->phase == Phase::Prefill;
    }
    return n == size_ && prefills == prefilling_;
  }

 private:
  Request* head_ = nullptr;
  Request* tail_ = nullptr;
  int size_ = 0;
  int prefilling_ = 0;
};

}  // namespace kunsim
