#include "sim/serving/dispatcher.hpp"

namespace kunsim {

DispatchRule dispatch_rule_from_name(const std::string& name) {
  return name == "round_robin" ? DispatchRule::RoundRobin : DispatchRule::LeastKv;
}

std::size_t Dispatcher::pick(const std::vector<Instance*>& instances, SimTime now) {
  if (rule_ == DispatchRule::RoundRobin) return next_++ % instances.size();
  std::size_t best = 0;
  double best_load = 0;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    const Instance& inst = *instances[i];
    const double load = static_cast<double>(inst.kv_used_at(now) + inst.queued_blocks()) /
                        static_cast<double>(inst.kv().capacity());
    if (i == 0 || load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

}  // namespace kunsim
