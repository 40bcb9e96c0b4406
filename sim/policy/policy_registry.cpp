#include "sim/policy/policy_registry.hpp"

#include <cstdio>
#include <cstdlib>

namespace kunsim {

std::map<std::string, PolicyEntry>& policy_registry() {
  static std::map<std::string, PolicyEntry> table;
  return table;
}

bool register_policy(const std::string& name, PolicyEntry entry) {
  if (!policy_registry().emplace(name, std::move(entry)).second) {
    std::fprintf(stderr, "kunsim: policy \"%s\" registered twice\n", name.c_str());
    std::abort();
  }
  return true;
}

std::unique_ptr<MemoryOverloadPolicy> make_policy(const Json& section, const std::string& path) {
  JsonFields f(section, path);
  const std::string name = f.string("name", "vllm");
  auto it = policy_registry().find(name);
  if (it == policy_registry().end()) {
    std::string known;
    for (const auto& [n, e] : policy_registry()) known += (known.empty() ? "" : ", ") + n;
    throw InputError(f.path_of("name") + ": unknown policy \"" + name + "\" (known: " + known + ")");
  }
  auto policy = it->second.make(f);
  f.finish();
  return policy;
}

}  // namespace kunsim
