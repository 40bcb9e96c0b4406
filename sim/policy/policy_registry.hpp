// The overload policies by name, each with a one-line description (`kunsim policies` prints
// it). A factory reads the policy's own `policy.*` keys, once each with its range, through the
// given JsonFields (so unknown keys are caught), and returns a maker with those parameters
// bound: a scenario parses its policy once, and each run makes a fresh policy from it.
#pragma once
#include <functional>
#include <memory>

#include "sim/core/registry.hpp"
#include "sim/policy/memory_overload_policy.hpp"

namespace kunsim {

using PolicyMaker = std::function<std::unique_ptr<MemoryOverloadPolicy>()>;
using PolicyFactory = std::function<PolicyMaker(JsonFields& params)>;

Registry<PolicyFactory>& policy_registry();
// Parses the policy section (`policy.name` picks the entry; the error lists the registered
// names) and returns its maker.
PolicyMaker policy_maker(const Json& policy_section, const std::string& path);

}  // namespace kunsim

#define KUNSIM_REGISTER_POLICY(ident, name, description, factory) \
  KUNSIM_REGISTER(::kunsim::policy_registry, policy_##ident, name, description, ::kunsim::PolicyFactory(factory))
