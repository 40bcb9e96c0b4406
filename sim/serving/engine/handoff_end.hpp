// HandoffEnd: either end of a disaggregated fleet's prefill -> decode KV hand-off
// (kv_handoff.hpp) on an engine. A prefill engine keeps each prefilled request, KV held, until
// its hand-off ends: find() finds it, hand_over() frees it. A decode engine reserves blocks when
// the transfer begins and receives the request when its KV has arrived; it joins the decodes at
// the next step boundary, which sends its first token. Owned by the engine; KvHandoffs reaches
// it through ReconfigurationHost::handoff_end.
#pragma once
#include <cstdint>

#include "sim/core/sim_time.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class Engine;

class HandoffEnd {
 public:
  explicit HandoffEnd(Engine& e) : e_(e) {}
  Request* find(RequestId id) const;
  void hand_over(Request* r, SimTime now);
  bool reserve(std::int64_t blocks);
  void unreserve(std::int64_t blocks);
  void receive(Request* r, std::int64_t reserved, SimTime now);

 private:
  Engine& e_;
};

}  // namespace kunsim
