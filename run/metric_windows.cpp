#include "run/metric_windows.hpp"

#include <algorithm>
#include <cctype>

namespace kunsim {
namespace {

// The i-th of n bursts' window: "burst" when there is one.
std::string burst_name(std::size_t i, std::size_t n) { return n == 1 ? "burst" : "burst" + std::to_string(i + 1); }

// A burst in run time: arrivals restart at workload.window's start and stop at its end.
std::optional<MetricWindow> burst_window(const Burst& b, const WorkloadSpec& w, const std::string& name) {
  double start = b.start_s - w.window_start_s, end = start + b.duration_s;
  if (w.window_duration_s) end = std::min(end, *w.window_duration_s);
  start = std::max(start, 0.0);
  if (end <= start) return std::nullopt;  // wholly outside the window: nothing arrives in it
  return MetricWindow{name, at_seconds(start), at_seconds(end)};
}

}  // namespace

std::vector<MetricWindow> metric_windows_from_json(const Json* section, const WorkloadSpec& workload) {
  static const Json kEmpty = Json::object();
  JsonFields f(section ? *section : kEmpty, "metrics");
  std::vector<MetricWindow> out;
  if (const Json* list = f.child(
          "windows", Help{"stretches of the run with their own figures [{name, start_s, duration_s}]"}, "array")) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string path = f.path_of("windows") + "[" + std::to_string(i) + "]";
      JsonFields wf((*list)[i], path);
      MetricWindow m;
      m.name = wf.string("name", Help{"the window's name in summary.json (windows.<name>) and plan targets"});
      const double start = wf.number("start_s", 0, 1e9, Help{"the window starts here, seconds into the run"});
      const double duration = wf.number("duration_s", 1e-3, 1e9, Help{"the window lasts this long"});
      wf.finish();
      const bool plain = !m.name.empty() && std::all_of(m.name.begin(), m.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
      if (!plain)
        throw InputError(path + ".name: \"" + m.name +
                         "\" must be letters, digits, '_' or '-' (it names a plan target's prefix)");
      m.start = at_seconds(start);
      m.end = at_seconds(start + duration);
      out.push_back(std::move(m));
    }
  }
  const bool bursts =
      f.boolean("burst_windows", true, Help{"each workload burst is a window (burst, or burst1, burst2, ...)"});
  f.finish();
  if (bursts)
    for (std::size_t i = 0; i < workload.bursts.size(); ++i) {
      if (auto m = burst_window(workload.bursts[i], workload, burst_name(i, workload.bursts.size())))
        out.push_back(std::move(*m));
    }
  for (std::size_t i = 0; i < out.size(); ++i)
    for (std::size_t k = 0; k < i; ++k)
      if (out[k].name == out[i].name)
        throw InputError("metrics.windows: two windows are named \"" + out[i].name + "\"" +
                         (out[i].name.rfind("burst", 0) == 0
                              ? " (the workload's bursts are windows named burst, burst1, ...; "
                                "rename yours or set metrics.burst_windows false)"
                              : ""));
  return out;
}

std::vector<std::string> metric_window_names(const Json& scenario) {
  std::vector<std::string> out;
  const Json* m = scenario.is_object() && scenario.contains("metrics") ? &scenario["metrics"] : nullptr;
  if (m && m->is_object() && m->contains("windows") && (*m)["windows"].is_array())
    for (const Json& w : (*m)["windows"])
      if (w.is_object() && w.contains("name") && w["name"].is_string()) out.push_back(w["name"].get<std::string>());
  const bool bursts = !(m && m->is_object() && m->value("burst_windows", Json(true)) == Json(false));
  if (bursts && scenario.is_object() && scenario.contains("workload") && scenario["workload"].is_object() &&
      scenario["workload"].contains("bursts") && scenario["workload"]["bursts"].is_array()) {
    const std::size_t n = scenario["workload"]["bursts"].size();
    for (std::size_t i = 0; i < n; ++i) out.push_back(burst_name(i, n));
  }
  return out;
}

}  // namespace kunsim
