// PolicyRegistry: the one table of overload policies by name, each with a one-line description
// (`kunsim policies` prints it). A factory reads the policy's own `policy.*` keys through the
// given JsonFields (so unknown keys are caught) and returns the policy. Registering a name twice
// is a startup error.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sim/policy/memory_overload_policy.hpp"

namespace kunsim {

struct PolicyEntry {
  std::string description;
  std::function<std::unique_ptr<MemoryOverloadPolicy>(JsonFields& params)> make;
};

std::map<std::string, PolicyEntry>& policy_registry();
bool register_policy(const std::string& name, PolicyEntry entry);
// Builds the policy named by `policy.name`; the error lists the registered names.
std::unique_ptr<MemoryOverloadPolicy> make_policy(const Json& policy_section, const std::string& path);

}  // namespace kunsim

#define KUNSIM_REGISTER_POLICY(ident, name, description, factory) \
  static const bool kunsim_policy_registered_##ident = ::kunsim::register_policy(name, {description, factory})
