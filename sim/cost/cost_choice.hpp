// Which costs price a run: the whole choice of `cost.model` and `cost.profile`, made once per
// scenario. "auto" takes the GPU kind's shipped profile (the production-kernel import first)
// that covers the model and TP degree, else the roofline; "profile" takes the named shipped
// profile or a folder; "roofline" takes the roofline. The source line says what priced what.
#pragma once
#include <memory>
#include <string>

#include "sim/cluster/cluster_spec.hpp"
#include "sim/cost/profile.hpp"
#include "sim/cost/roofline_cost_model.hpp"

namespace kunsim {

struct CostChoice {
  std::string model = "roofline";          // "profile" or "roofline": what was resolved
  std::string source;                      // what priced what, and why (summary.json cost_source)
  std::shared_ptr<const Profile> profile;  // with model "profile"
};

// Throws InputError naming `cost.profile` when a named profile is missing or does not cover
// the model. `scenario_dir` resolves a relative profile folder.
CostChoice choose_cost(const CostSpec& spec, const ModelSpec& model, const ClusterSpec& cluster, int tp,
                       const std::string& scenario_dir);

// The cost model of a choice: the profile's (kernel tables or kunsim-calibrate's per-model ops)
// or the roofline.
std::unique_ptr<CostModel> make_cost_model(const Profile* profile, const ModelSpec& model, const ClusterSpec& cluster,
                                           int tp, const RooflineParams& params);

}  // namespace kunsim
