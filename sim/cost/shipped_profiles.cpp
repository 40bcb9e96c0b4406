#include "sim/cost/shipped_profiles.hpp"

#include <algorithm>
#include <map>
#include <mutex>

#include "sim/cost/aiconfigurator_import.hpp"

namespace kunsim {
namespace {

// The committed profile folders of a kind, parsed once, production imports first.
std::vector<std::shared_ptr<const Profile>> committed_profiles(const std::string& kind) {
  // Sweeps build scenarios on several threads.
  static std::mutex mu;
  static std::map<std::string, std::vector<std::shared_ptr<const Profile>>> parsed;
  const std::lock_guard<std::mutex> lock(mu);
  if (const auto it = parsed.find(kind); it != parsed.end()) return it->second;
  std::vector<std::shared_ptr<const Profile>> list;
  for (const auto& d : shipped_profile_data()) {
    if (d.kind != kind) continue;
    auto read = [&d](const std::string& file) { return d.file(file); };
    list.push_back(std::make_shared<const Profile>(read_profile("calibrate/profiles/" + std::string(d.path), read)));
  }
  std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
    return (a->variant == "production-import") > (b->variant == "production-import");
  });
  parsed[kind] = list;
  return list;
}

}  // namespace

std::vector<std::shared_ptr<const Profile>> shipped_profiles(const std::string& kind) {
  std::vector<std::shared_ptr<const Profile>> list;
  // The user's own tables, where they point at some, win over what the repository ships.
  if (auto imported = aiconfigurator_profile(kind)) list.push_back(imported);
  for (auto& p : committed_profiles(kind)) list.push_back(std::move(p));
  return list;
}

std::shared_ptr<const Profile> shipped_profile(const std::string& kind, const std::string& model, int tp) {
  for (const auto& p : shipped_profiles(kind))
    if (p->covers(model, tp)) return p;
  return nullptr;
}

std::shared_ptr<const Profile> shipped_profile_named(const std::string& kind, const std::string& name) {
  for (const auto& p : shipped_profiles(kind))
    if (p->name == name) return p;
  return nullptr;
}

}  // namespace kunsim
