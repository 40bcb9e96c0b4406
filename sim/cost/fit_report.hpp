// FitReport: how well a profile's fitted cost model predicts what it did not see.
// Per op, a fixed 20% of the measured points (every fifth by shape order, never a row's first
// or last, so the check is interpolation) is held out; the curves are rebuilt from the rest and
// the held-out points predicted: mean absolute percentage error. The iteration check prices
// every measured whole-model iteration (iterations.csv) with the full model and compares the
// GPU time (CPU overhead excluded: the measurements time kernels only).
#pragma once
#include "sim/core/json_fields.hpp"
#include "sim/cost/profile.hpp"
#include "sim/cost/roofline_params.hpp"

namespace kunsim {

// {"gpu", "ops": {op: {"heldout_mape", "points"}}, "iteration_check": {"median_ape", "p95_ape", "points"}}
// `roofline`: the parameters of the roofline checked against kernel tables (format 2).
Json fit_report(const Profile& profile, const RooflineParams& roofline = {});

}  // namespace kunsim
