// CostSpec: a scenario's `cost` section, parsed. `model` and `profile` choose what prices an
// iteration (cost_choice.hpp); every other key belongs to a registered cost model, which parses
// its own where it registers (CostModelKind::read_params), so a new model's knobs need no edit
// here. The roofline's parameters also carry the host terms every model charges.
#pragma once
#include <string>

#include "sim/core/json_fields.hpp"
#include "sim/cost/roofline_params.hpp"

namespace kunsim {

struct CostSpec {
  // "auto": a shipped profile of the GPU kind (the production-kernel import first; `profile`
  // may name one), else the roofline; "roofline"; "profile" (with `profile`: a shipped
  // profile's name or a folder).
  std::string model = "auto";
  std::string profile;
  // A profile measured on another GPU kind prices this cluster only when the user says it is
  // deliberate (e.g. an H100 profile standing in for an H800); cost_source then says so.
  bool allow_foreign_profile = false;
  RooflineParams roofline;
};

// Parses `j` (nullptr: every default) at `path`: model and profile, then each registered cost
// model's own keys. Unknown keys are refused.
CostSpec cost_spec_from_json(const Json* j, const std::string& path);

}  // namespace kunsim
