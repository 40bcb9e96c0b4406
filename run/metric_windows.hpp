// The scenario's `metrics` section: the windows of the run that get their own figures
// (WindowMetrics). `metrics.windows` names them in run time; the workload's bursts are windows
// too unless `metrics.burst_windows` is false: "burst" (or "burst1", "burst2", ... for several),
// from each burst's start in the workload to its end, moved by workload.window's start and cut
// at its end as the arrivals are.
#pragma once
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/metrics/window_metrics.hpp"
#include "traces/workload.hpp"

namespace kunsim {

// `section` may be null (no `metrics` key). Throws InputError naming the JSON path.
std::vector<MetricWindow> metric_windows_from_json(const Json* section, const WorkloadSpec& workload);
// The names a scenario's windows get, read from its JSON without validating it (a sweep's
// columns, before its points are checked): those of metrics.windows, then the bursts'.
std::vector<std::string> metric_window_names(const Json& scenario);

}  // namespace kunsim
