// Dispatcher: the global front door. Picks the instance an arriving request joins:
//   round_robin  - in turn;
//   least_kv     - the lowest (KV blocks used + blocks queued) / capacity, ties to the lowest id.
#pragma once
#include <string>
#include <vector>

#include "sim/serving/instance.hpp"

namespace kunsim {

enum class DispatchRule { RoundRobin, LeastKv };
DispatchRule dispatch_rule_from_name(const std::string& name);

class Dispatcher {
 public:
  explicit Dispatcher(DispatchRule rule) : rule_(rule) {}
  // Index into `instances` (non-empty).
  std::size_t pick(const std::vector<Instance*>& instances, SimTime now);

 private:
  DispatchRule rule_;
  std::size_t next_ = 0;
};

}  // namespace kunsim
