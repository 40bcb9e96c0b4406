#include "sim/policy/memory_overload_policy.hpp"

#include <stdexcept>

namespace kunsim {

PreemptDecision MemoryOverloadPolicy::on_preempt(const Instance& inst, const Request& victim) {
  if (victim.phase != Phase::Decode && victim.phase != Phase::Prefill)
    throw std::logic_error("policy asked to preempt a request that is not running");
  PreemptDecision d = do_on_preempt(inst, victim);
  if (d.reason.empty()) throw std::logic_error("policy " + name() + " gave a preemption without a reason");
  return d;
}

}  // namespace kunsim
