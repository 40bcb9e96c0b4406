// Which costs price a run: the whole choice of `cost.model` and `cost.profile`, made once per
// scenario, and the cost models by name. "auto" takes the GPU kind's shipped profile (the
// production-kernel import first) that covers the model and TP degree, else the roofline;
// "profile" takes the named shipped profile or a folder; "roofline" takes the roofline. The
// source line says what priced what. A new cost model is one file in sim/cost/: its class and a
// KUNSIM_REGISTER_COST_MODEL line there, with its own keys' parser (kunsim_cost is linked whole,
// so a registration nothing else refers to is kept).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "sim/cluster/cluster_spec.hpp"
#include "sim/core/registry.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/cost/cost_spec.hpp"
#include "sim/cost/profile.hpp"

namespace kunsim {

struct CostModelInputs {
  const Profile* profile;  // set for kinds that need one
  const ModelSpec& model;
  const ClusterSpec& cluster;
  int tp;
  const RooflineParams& params;  // fixed overheads and the roofline's factors
};

struct CostModelKind {
  bool needs_profile = false;  // priced from measured tables (cost.profile or auto)
  std::function<std::unique_ptr<CostModel>(const CostModelInputs&)> make;
  // Reads the model's own `cost.<key>` parameters into the spec (none: it has no keys).
  std::function<void(JsonFields&, CostSpec&)> read_params;
};

Registry<CostModelKind>& cost_model_registry();

struct CostChoice {
  std::string model = "roofline";          // a registered cost model: what `auto` resolved to
  std::string source;                      // what priced what, and why (summary.json cost_source)
  std::shared_ptr<const Profile> profile;  // with model "profile"
};

// Throws InputError naming `<path>.profile` when a named profile is missing or does not cover
// the model. `scenario_dir` resolves a relative profile folder; `path` is where the section is
// (`cost`, or an instance group's `deployment.groups.N.cost`).
CostChoice choose_cost(const CostSpec& spec, const ModelSpec& model, const ClusterSpec& cluster, int tp,
                       const std::string& scenario_dir, const std::string& path = "cost");

// The cost model `kind` (a registered name), built for one deployment.
std::unique_ptr<CostModel> make_cost_model(const std::string& kind, const Profile* profile, const ModelSpec& model,
                                           const ClusterSpec& cluster, int tp, const RooflineParams& params);

}  // namespace kunsim

#define KUNSIM_REGISTER_COST_MODEL(ident, name, description, kind) \
  KUNSIM_REGISTER(::kunsim::cost_model_registry, cost_model_##ident, name, description, kind)
