#include "sim/policy/policy_registry.hpp"

namespace kunsim {

Registry<PolicyFactory>& policy_registry() {
  static Registry<PolicyFactory> table("policy");
  return table;
}

std::unique_ptr<MemoryOverloadPolicy> make_policy(const Json& section, const std::string& path) {
  JsonFields f(section, path);
  const std::string name = f.string("name", "vllm");
  auto policy = policy_registry().at(name, f.path_of("name"))(f);
  f.finish();
  return policy;
}

}  // namespace kunsim
