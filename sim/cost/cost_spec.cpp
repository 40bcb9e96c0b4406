#include "sim/cost/cost_spec.hpp"

#include "sim/cost/cost_choice.hpp"

namespace kunsim {

CostSpec cost_spec_from_json(const Json* j, const std::string& path) {
  CostSpec spec;
  if (!j) return spec;
  JsonFields f(*j, path);
  spec.model = f.string("model", "auto",
                        Help{"auto (the GPU kind's committed measured profile when it covers the model and TP, else "
                             "roofline), roofline, profile (kunsim list cost-models)"});
  if (spec.model != "auto" && !cost_model_registry().find(spec.model))
    throw InputError(f.path_of("model") + ": unknown cost model \"" + spec.model +
                     "\" (known: auto, " + cost_model_registry().names() + ")");
  spec.profile =
      f.string("profile", "",
               Help{"a committed profile's name or a profile folder (with model=profile, or to choose under auto)"});
  spec.allow_foreign_profile =
      f.boolean("allow_foreign_profile", false,
                Help{"let a profile measured on another GPU kind price this cluster (cost_source says so)"});
  if (spec.model == "profile" && spec.profile.empty())
    throw InputError(f.path_of("profile") + ": a profile (a shipped profile's name or a folder) is needed with cost.model=profile");
  // Every other key is a registered cost model's own (the roofline's host terms price them all).
  for (const auto& [name, kind] : cost_model_registry().items())
    if (kind.entry.read_params) kind.entry.read_params(f, spec);
  f.finish();
  return spec;
}

}  // namespace kunsim
