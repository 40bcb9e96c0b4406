#include "sim/serving/engine/handoff_end.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

Request* HandoffEnd::find(RequestId id) const {
  auto it = e_.handing_off_.find(id);
  return it == e_.handing_off_.end() ? nullptr : it->second;
}

bool HandoffEnd::reserve(std::int64_t blocks) { return e_.reserve_blocks(blocks); }
void HandoffEnd::unreserve(std::int64_t blocks) { e_.unreserve_blocks(blocks); }

void HandoffEnd::hand_over(Request* r, SimTime now) {
  if (e_.handing_off_.erase(r->id) == 0) throw std::logic_error("Engine: handing over a request it does not hold");
  e_.unbind_ve(r);
  e_.let_go_prefix(r);  // the decode side holds its own copies
  e_.kv_.release(r->blocks);
  e_.kick(now);  // room for waiting prompts
}

void HandoffEnd::receive(Request* r, std::int64_t reserved, SimTime now) {
  r->instance = e_.id_;
  e_.inbox_.emplace_back(r, reserved);
  if (!e_.busy_) e_.take_inbox(now);
  else e_.cut_jump(now);
}

}  // namespace kunsim
