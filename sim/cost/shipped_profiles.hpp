// Shipped profiles: the measured profiles committed under calibrate/profiles/<kind>/ are
// embedded in the binary at build time (sim/CMakeLists.txt generates the list), so a scenario
// on a GPU kind that has one is priced from measurements with no file on disk. cost.model
// "auto" (the default) uses it when it covers the scenario's model and TP degree.
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/cost/profile.hpp"

namespace kunsim {

struct ShippedProfileData {
  std::string_view kind, meta_json, ops_csv, iterations_csv, attention_mixed_csv;
};

// Generated: one entry per calibrate/profiles/<kind>/ holding an ops.csv (may be none).
const std::vector<ShippedProfileData>& shipped_profile_data();

// The parsed shipped profile of a GPU kind (parsed once, shared), or null if none is shipped.
std::shared_ptr<const Profile> shipped_profile(const std::string& kind);

}  // namespace kunsim
