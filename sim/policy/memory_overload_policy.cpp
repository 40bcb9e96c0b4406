#include "sim/policy/memory_overload_policy.hpp"

#include <stdexcept>

namespace kunsim {

PreemptDecision MemoryOverloadPolicy::on_preempt(const EngineView& inst, const Request& victim) {
  if (victim.phase != Phase::Decode && victim.phase != Phase::Prefill)
    throw std::logic_error("policy asked to preempt a request that is not running");
  PreemptDecision d = do_on_preempt(inst, victim);
  if (d.reason.empty()) throw std::logic_error("policy " + name() + " gave a preemption without a reason");
  return d;
}

void MemoryOverloadPolicy::on_tick(const ClusterView& cluster, ClusterCommands& commands, SimTime now) {
  if (tick_interval() <= SimDuration{}) throw std::logic_error("policy " + name() + " ticked without a tick interval");
  if (now <= last_tick_) throw std::logic_error("policy " + name() + " ticked twice at one time, or back in time");
  last_tick_ = now;
  do_on_tick(cluster, commands, now);
}

int MemoryOverloadPolicy::pick_engine(const ClusterView& cluster, const Request& r, SimTime now) {
  if (r.phase != Phase::Waiting || r.instance >= 0)
    throw std::logic_error("policy " + name() + " asked to place a request that is already placed");
  const int pick = do_pick_engine(cluster, r, now);
  if (pick < -1 || pick >= static_cast<int>(cluster.dispatchable().size()))
    throw std::logic_error("policy " + name() + " picked engine index " + std::to_string(pick) + " of " +
                           std::to_string(cluster.dispatchable().size()));
  return pick;
}

}  // namespace kunsim
