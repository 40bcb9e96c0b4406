// RequestPool: storage for the requests in flight. Requests live in fixed chunks (pointers stay
// valid) and finished ones are reused, so memory follows the in-flight count, not the trace.
#pragma once
#include <memory>
#include <vector>

#include "sim/serving/engine/request.hpp"

namespace kunsim {

class RequestPool {
 public:
  Request* acquire() {
    if (free_.empty()) {
      chunks_.push_back(std::make_unique<Request[]>(kChunk));
      for (std::size_t i = kChunk; i-- > 0;) free_.push_back(&chunks_.back()[i]);
    }
    Request* r = free_.back();
    free_.pop_back();
    *r = Request{};
    ++live_;
    return r;
  }
  void release(Request* r) {
    free_.push_back(r);
    --live_;
  }
  std::size_t live() const { return live_; }

 private:
  static constexpr std::size_t kChunk = 4096;
  std::vector<std::unique_ptr<Request[]>> chunks_;
  std::vector<Request*> free_;
  std::size_t live_ = 0;
};

}  // namespace kunsim
