// MemoryOverloadPolicy: what a serving system does when KV memory runs out. Policies register
// by name (policy_registry.hpp) and see serving only through PolicyHooks. The public methods
// check the rules; the private do_* hooks are what a policy writes.
// To add one: a file in sim/policy/ with a subclass and a KUNSIM_REGISTER_POLICY line.
#pragma once
#include <memory>
#include <string>

#include "sim/core/json_fields.hpp"
#include "sim/serving/serving_context.hpp"

namespace kunsim {

class MemoryOverloadPolicy : public PolicyHooks {
 public:
  PreemptDecision on_preempt(const Instance& inst, const Request& victim) final;
  virtual std::string name() const = 0;

 private:
  virtual PreemptDecision do_on_preempt(const Instance& inst, const Request& victim) = 0;
};

}  // namespace kunsim
