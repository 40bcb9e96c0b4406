#include "sim/cost/cost_choice.hpp"

#include <filesystem>
#include <stdexcept>

#include "sim/cost/aiconfigurator_import.hpp"
#include "sim/cost/shipped_profiles.hpp"
#include "sim/cost/sliding_window_cost_model.hpp"

namespace kunsim {

Registry<CostModelKind>& cost_model_registry() {
  static Registry<CostModelKind> table("cost model");
  return table;
}

std::unique_ptr<CostModel> make_cost_model(const std::string& kind, const Profile* profile, const ModelSpec& model,
                                           const ClusterSpec& cluster, int tp, const RooflineParams& params) {
  const CostModelKind& k = cost_model_registry().at(kind, "cost.model");
  if (k.needs_profile && !profile) throw std::logic_error("cost model " + kind + " built without a profile");
  std::unique_ptr<CostModel> m = k.make({profile, model, cluster, tp, params});
  if (model.sliding_window.on()) m = std::make_unique<SlidingWindowCostModel>(std::move(m), model);
  return m;
}

// Which copy of a profile priced a run: a start-up import of the user's tables, or a folder
// committed to the repository (embedded in the binary).
static std::string origin(const Profile& p) {
  if (p.name == kImportedProfileName) return "imported at start-up from KUNSIM_MEASURED_DIR=" + aiconfigurator_dir();
  return "committed in " + p.dir;
}

CostChoice choose_cost(const CostSpec& spec, const ModelSpec& model, const ClusterSpec& cluster, int tp,
                       const std::string& scenario_dir, const std::string& path) {
  const std::string profile_path = path + ".profile";
  namespace fs = std::filesystem;
  CostChoice c;
  const std::string& kind = cluster.gpu.name;
  const std::string where = model.name + " tp=" + std::to_string(tp);
  auto use = [&](std::shared_ptr<const Profile> p, std::string why) {
    if (!p->covers(model.name, tp))
      throw InputError(profile_path + ": " + p->dir + " has no measurements for " + where);
    if (p->kind() != kind) {
      if (!spec.allow_foreign_profile)
        throw InputError(profile_path + ": " + p->dir + " was measured on " + p->kind() + ", not " + kind +
                         "; set cost.allow_foreign_profile to price this cluster with it deliberately");
      why += "; measured on " + p->kind() + ", pricing " + kind + " by cost.allow_foreign_profile";
    }
    c.model = "profile";
    c.profile = std::move(p);
    c.source = make_cost_model(c.model, c.profile.get(), model, cluster, tp, spec.roofline)->describe() + " (" + why + ")";
  };
  if (spec.model != "auto" && !cost_model_registry().at(spec.model, "cost.model").needs_profile) {
    c.model = spec.model;
    c.source = spec.model + " (cost.model=" + spec.model + ")";
  } else if (!spec.profile.empty()) {
    // A shipped profile's name, else a folder (relative to the scenario's, then to the cwd).
    if (auto shipped = shipped_profile_named(kind, spec.profile)) {
      use(shipped, "cost.profile=" + spec.profile + ", " + origin(*shipped));
    } else {
      std::string dir = spec.profile;
      if (!scenario_dir.empty() && fs::path(dir).is_relative() && fs::exists(fs::path(scenario_dir) / dir))
        dir = (fs::path(scenario_dir) / dir).string();
      if (!fs::exists(dir)) {
        std::string names;
        for (const auto& p : shipped_profiles(kind)) names += (names.empty() ? "" : ", ") + p->name;
        throw InputError(profile_path + ": \"" + spec.profile + "\" is neither a known " + kind + " profile (" +
                         (names.empty() ? std::string("none found") : names) + ") nor a folder");
      }
      use(std::make_shared<const Profile>(load_profile(dir)), "cost.profile=" + dir);
    }
  } else if (auto shipped = shipped_profile(kind, model.name, tp)) {
    use(shipped, "cost.model=auto: the " + kind + " " + shipped->variant + " profile, " + origin(*shipped));
  } else if (spec.model == "profile") {
    throw InputError(profile_path + ": needed with cost.model=profile");
  } else {
    const std::string dir = aiconfigurator_dir();
    const std::string variable =
        dir.empty() ? "KUNSIM_MEASURED_DIR is not set" : "KUNSIM_MEASURED_DIR=" + dir + " has no tables for it";
    c.source = shipped_profiles(kind).empty()
                   ? "roofline: no measured profile for " + kind + " (none committed under calibrate/profiles/" + kind +
                         ", and " + variable + ") (cost.model=auto)"
                   : "roofline: no " + kind + " profile covers " + where + " (cost.model=auto)";
  }
  return c;
}

}  // namespace kunsim
