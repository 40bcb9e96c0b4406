// The fit report of a kernel-table profile (format 2), the `kunsim fit` of imported tables:
// - "ops": per op family, the held-out MAPE of the interpolation. Every fifth interior point of
//   each measured curve (GEMM over m at a grid (n, k); attention over length at a (shape,
//   batch); all-reduce over bytes per implementation and GPU count) is held back, the tables are
//   rebuilt from the rest, and the held-back points are predicted. `gemm_nk` holds back whole
//   interior n and k grid lines instead, to check the blend between them.
// - "derived_shape_check": each measured attention head shape priced as if it were absent
//   (derived from the others, AttentionTable::curve's rule) against its measurements.
// - "roofline": the roofline with kunsim's default parameters against every table point, per
//   op family, and "roofline_without_floors" with the fixed costs and the length-dependent
//   attention efficiency taken out, as the roofline was before it had them.
// kunsim fit --set cost.KEY=VALUE checks other roofline parameters (tools/fit-roofline.py).
// There is no whole-iteration data in these tables; the report says so ("note").
#pragma once
#include "sim/core/json_fields.hpp"
#include "sim/cost/profile.hpp"
#include "sim/cost/roofline_params.hpp"

namespace kunsim {

// `roofline` is the roofline checked against the tables (the defaults, or a scenario's `cost`).
Json kernel_table_fit_report(const Profile& profile, const RooflineParams& roofline);

}  // namespace kunsim
