// RunningList: an instance's running requests in admission order, linked through the requests
// themselves, so removal at finish is O(1) and the preemption victim (the newest, as vLLM picks
// it) is the tail.
#pragma once
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class RunningList {
 public:
  bool empty() const { return head_ == nullptr; }
  int size() const { return size_; }
  Request* front() const { return head_; }
  Request* back() const { return tail_; }
  void push_back(Request* r) {
    r->prev = tail_;
    r->next = nullptr;
    (tail_ ? tail_->next : head_) = r;
    tail_ = r;
    ++size_;
  }
  void erase(Request* r) {
    (r->prev ? r->prev->next : head_) = r->next;
    (r->next ? r->next->prev : tail_) = r->prev;
    r->prev = r->next = nullptr;
    --size_;
  }

 private:
  Request* head_ = nullptr;
  Request* tail_ = nullptr;
  int size_ = 0;
};

}  // namespace kunsim
