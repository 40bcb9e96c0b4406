#include "sim/policy/policy_registry.hpp"

namespace kunsim {

Registry<PolicyFactory>& policy_registry() {
  static Registry<PolicyFactory> table("policy");
  return table;
}

PolicyMaker policy_maker(const Json& section, const std::string& path) {
  JsonFields f(section, path);
  const std::string name = f.string(
      "name", "vllm", Help{"overload policy: vllm, vllm-swap, infercept, llumnix, kunserve (kunsim list policies)"});
  const KeyCatalogue::When when(f.path_of("name") + "=" + name);  // its own keys, in `kunsim list params`
  PolicyMaker maker = policy_registry().at(name, f.path_of("name"))(f);
  f.finish();
  return maker;
}

}  // namespace kunsim
