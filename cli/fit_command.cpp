// `kunsim fit PROFILE`: how well the cost model fits a measured profile (held-out error per op
// family, checks of whole iterations), into fit-report.json.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "sim/core/output_folder.hpp"
#include "sim/cost/cost_spec.hpp"
#include "sim/cost/fit_report.hpp"

namespace kunsim {

CommandRunner add_fit_command(CLI::App& app) {
  struct Args {
    std::string profile_dir, out;
    std::vector<std::string> sets;
    double max_mape = -1;
  };
  auto a = std::make_shared<Args>();
  auto* fit = app.add_subcommand("fit", "Fit the cost model to a measured profile; write fit-report.json");
  fit->add_option("profile_dir", a->profile_dir, "A profile folder: calibrate/profiles/<gpu>/<name>")->required();
  fit->add_option("--out", a->out, "Folder for fit-report.json (default: the profile folder)")->check(kOutputPath);
  fit->add_option("--set", a->sets, "Roofline parameters to check against kernel tables: --set cost.gemm_latency_us=5")
      ->take_all();
  fit->add_option("--max-mape", a->max_mape,
                  "Exit 1 when any op family's held-out MAPE exceeds this many percent (e.g. 10)")
      ->check(CLI::Range(0.0, 1000.0));
  return [a](const CommandContext&) {
    Json cost_json = Json::object();
    for (const auto& s : a->sets) apply_override(cost_json, s);
    if (!cost_json.is_object() || cost_json.size() > 1 || (cost_json.size() == 1 && !cost_json.contains("cost")))
      throw InputError("--set: kunsim fit takes cost.* keys only");
    const Json* cj = cost_json.contains("cost") ? &cost_json["cost"] : nullptr;
    const Json report = fit_report(load_profile(a->profile_dir), cost_spec_from_json(cj, "cost").roofline);
    const std::string out_dir = a->out.empty() ? a->profile_dir : a->out;
    std::filesystem::create_directories(out_dir);
    write_file_atomic(std::filesystem::path(out_dir) / "fit-report.json", json_file_text(report));
    for (auto it = report["ops"].begin(); it != report["ops"].end(); ++it)
      std::printf("%-14s held-out MAPE %6.2f%%  (%lld points)\n", it.key().c_str(),
                  100 * it.value()["heldout_mape"].get<double>(), it.value()["points"].get<long long>());
    for (const auto& [key, what] : {std::pair{"iteration_check", "iteration check"},
                                    std::pair{"mixed_attention_check", "mixed-batch attention check"}}) {
      if (!report.contains(key)) continue;
      const auto& c = report[key];
      std::printf("%s: median %.2f%%, p95 %.2f%% over %lld batches\n", what, 100 * c["median_ape"].get<double>(),
                  100 * c["p95_ape"].get<double>(), c["points"].get<long long>());
    }
    if (report.contains("derived_shape_check"))  // a measured head shape priced as if the tables lacked it
      for (const auto& [op, check] : report["derived_shape_check"].items()) {
        auto line = [&](const char* what, const Json& c) {
          std::printf("%s derived %s: MAPE %.2f%% over %lld shapes (worst %s, %.2f%%)\n", op.c_str(), what,
                      100 * c["mape"].get<double>(), c["shapes"].get<long long>(),
                      c["worst_shape"].get<std::string>().c_str(), 100 * c["worst_mape"].get<double>());
        };
        line("from the nearest shape", check);
        if (check.contains("kv_heads_4x")) line("from 1/4 the KV heads", check["kv_heads_4x"]);
      }
    if (report.contains("note")) std::printf("%s\n", report["note"].get<std::string>().c_str());
    std::printf("wrote %s/fit-report.json\n", out_dir.c_str());
    if (a->max_mape >= 0)
      for (auto it = report["ops"].begin(); it != report["ops"].end(); ++it)
        if (100 * it.value()["heldout_mape"].get<double>() > a->max_mape) {
          std::fprintf(stderr, "kunsim fit: %s held-out MAPE %.2f%% exceeds --max-mape %.2f%%\n", it.key().c_str(),
                       100 * it.value()["heldout_mape"].get<double>(), a->max_mape);
          return 1;
        }
    return 0;
  };
}

}  // namespace kunsim
