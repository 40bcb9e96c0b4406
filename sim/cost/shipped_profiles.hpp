// The profiles a GPU kind can be priced from: those committed under calibrate/profiles/<kind>/
// <name>/ (kunsim's own measurements, embedded in the binary at build time by
// cmake/KunsimShippedProfiles.cmake), and the production-kernel profile imported at run time from
// NVIDIA's aiconfigurator tables where they are found (aiconfigurator_profile: never committed).
// cost.model "auto" (the default) prefers the production import; cost.profile names any of them.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/cost/profile.hpp"

namespace kunsim {

struct ShippedProfileData {
  std::string_view kind;  // GPU kind, as the catalogue names it
  std::string_view path;  // below calibrate/profiles/: "<kind>/<name>"
  std::vector<std::pair<std::string_view, std::string_view>> files;  // file name -> contents
};

// Generated: one entry per shipped profile folder (may be none).
const std::vector<ShippedProfileData>& shipped_profile_data();

// Every profile of a GPU kind, parsed once and shared; the production import first.
std::vector<std::shared_ptr<const Profile>> shipped_profiles(const std::string& kind);
// The profile cost.model=auto picks for a kind: the first that covers (model, tp), or null.
std::shared_ptr<const Profile> shipped_profile(const std::string& kind, const std::string& model, int tp);
// A shipped profile of `kind` by its name (the folder's), or null.
std::shared_ptr<const Profile> shipped_profile_named(const std::string& kind, const std::string& name);

}  // namespace kunsim
