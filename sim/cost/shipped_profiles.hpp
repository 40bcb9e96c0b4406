// The profiles a GPU kind can be priced from:
//   - those committed under calibrate/profiles/<kind>/<name>/, embedded in the binary at build
//     time by cmake/KunsimShippedProfiles.cmake: the production-kernel profiles that
//     `kunsim import aiconfigurator` derived from NVIDIA's published tables (aiconfigurator-vllm,
//     so a fresh clone prices from measured kernels), and kunsim's own kernels measured by
//     kunsim-calibrate;
//   - a start-up import of the tables KUNSIM_MEASURED_DIR points at (aiconfigurator-vllm-imported),
//     only where that variable is set.
// cost.model "auto" (the default) prefers the start-up import, then a committed production
// import, then kunsim's own kernels; cost.profile names any of them.
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

  // A file's contents, "" where the folder has no such file (how read_profile reads a folder).
  std::string file(const std::string& name) const {
    for (const auto& [n, text] : files)
      if (n == name) return std::string(text);
    return {};
  }
};

// Generated: one entry per committed profile folder (may be none).
const std::vector<ShippedProfileData>& shipped_profile_data();

// Every profile of a GPU kind, in the order cost.model=auto prefers them: the start-up import
// (where KUNSIM_MEASURED_DIR is set and has the kind's tables), then the committed folders,
// production imports first (parsed once and shared).
std::vector<std::shared_ptr<const Profile>> shipped_profiles(const std::string& kind);
// The profile cost.model=auto picks for a kind: the first that covers (model, tp), or null.
std::shared_ptr<const Profile> shipped_profile(const std::string& kind, const std::string& model, int tp);
// A shipped profile of `kind` by its name (the folder's), or null.
std::shared_ptr<const Profile> shipped_profile_named(const std::string& kind, const std::string& name);

}  // namespace kunsim
