// The overload policies by name, each with a one-line description (`kunsim policies` prints
// it). A factory reads the policy's own `policy.*` keys, once each with its range, through the
// given JsonFields (so unknown keys are caught) and returns the policy.
#pragma once
#include <functional>
#include <memory>

#include "sim/core/registry.hpp"
#include "sim/policy/memory_overload_policy.hpp"

namespace kunsim {

using PolicyFactory = std::function<std::unique_ptr<MemoryOverloadPolicy>(JsonFields& params)>;

Registry<PolicyFactory>& policy_registry();
// Builds the policy named by `policy.name`; the error lists the registered names.
std::unique_ptr<MemoryOverloadPolicy> make_policy(const Json& policy_section, const std::string& path);

}  // namespace kunsim

#define KUNSIM_REGISTER_POLICY(ident, name, description, factory) \
  KUNSIM_REGISTER(::kunsim::policy_registry, policy_##ident, name, description, ::kunsim::PolicyFactory(factory))
