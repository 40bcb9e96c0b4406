#include "sim/cost/shipped_profiles.hpp"

#include <map>
#include <mutex>

namespace kunsim {

std::shared_ptr<const Profile> shipped_profile(const std::string& kind) {
  // Sweeps build scenarios on several threads.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Profile>> parsed;
  const std::lock_guard<std::mutex> lock(mu);
  if (const auto it = parsed.find(kind); it != parsed.end()) return it->second;
  std::shared_ptr<const Profile> p;
  for (const auto& d : shipped_profile_data())
    if (d.kind == kind)
      p = std::make_shared<const Profile>(
          load_profile_text("calibrate/profiles/" + kind + " (shipped)", d.meta_json, d.ops_csv,
                                                      d.iterations_csv, d.attention_mixed_csv));
  parsed[kind] = p;
  return p;
}

}  // namespace kunsim
