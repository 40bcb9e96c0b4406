// `kunsim plan [SCENARIO]`: the capacity search of whatif/plan.hpp, into plan.json and a table.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "sim/core/output_folder.hpp"
#include "whatif/plan.hpp"

namespace kunsim {

CommandRunner add_plan_command(CLI::App& app) {
  struct Args {
    PlanOptions opt;
    std::string scenario, policies, out, trace_dir;
    std::vector<std::string> targets;
    std::vector<std::string> sets, vary;
    bool overwrite = false;
  };
  auto a = std::make_shared<Args>();
  auto* plan = app.add_subcommand("plan", "Capacity search: fewest instances or highest rate meeting the SLO target");
  plan->add_option("scenario", a->scenario, "Scenario JSON file (default: the embedded default)");
  plan->add_option("--target", a->targets,
                   "What to meet: SLO attainment (0.99), or ttft.p99<=2, itl.p99<=0.1, tpot.mean<=0.05, goodput>=X, "
                   "throughput>=X; several: give it again, or a comma list (all must be met)");
  plan->add_option("--vary", a->vary,
                   "What is searched: deployment.instances (default), deployment.groups.<name>.count or "
                   "workload.rate_scale; and KEY=V1,V2,... (again for more axes) plans every shape, e.g. "
                   "cluster.gpu=h100-sxm,h200 deployment.tp=4,8");
  plan->add_option("--headroom", a->opt.headroom,
                   "Size instances for this many times the workload's rate (e.g. 1.2; default 1)");
  plan->add_option("--seeds", a->opt.seeds,
                   "Search once per seed (the scenario's seed and the next ones): the answer holds for every seed, "
                   "and plan.json gives each seed's answer and their spread (default 1)");
  plan->add_option("--seed-quantile", a->opt.seed_quantile,
                   "With --seeds: the fraction of seeds that must meet the targets (default 1: all)");
  plan->add_option("--policies", a->policies, "Comma-separated policies (default: the scenario's)");
  plan->add_option("--min", a->opt.min, "Lower end of the search");
  plan->add_option("--max", a->opt.max, "Upper end of the search");
  plan->add_option("-j,--jobs", a->opt.threads, "Policies searched in parallel")->check(CLI::Range(1, 1024));
  plan->add_option("--out", a->out, "Folder for plan.json (default out/plan-<scenario name>)")->check(kOutputPath);
  plan->add_option("--set", a->sets, "Override a scenario key")->take_all();
  plan->add_option("--trace-dir", a->trace_dir, "Folder that relative trace paths resolve against");
  plan->add_flag("--overwrite", a->overwrite, kOverwriteHelp);
  plan->add_flag("--force", a->opt.force, kForceHelp);
  return [a](const CommandContext&) {
    PlanOptions opt = a->opt;
    bool knob_given = false;
    for (const std::string& v : a->vary) {
      if (v.find('=') != std::string::npos) {
        opt.shapes.push_back(v);
      } else {
        if (knob_given && opt.vary != v)
          throw InputError("--vary " + v + ": one knob is searched (" + opt.vary +
                           " given already); shape axes are KEY=LIST");
        opt.vary = v;
        knob_given = true;
      }
    }
    if (!a->targets.empty()) {
      opt.target.clear();
      for (const std::string& t : a->targets) opt.target += (opt.target.empty() ? "" : ",") + t;
    }
    const std::string& csv = a->policies;
    for (std::size_t from = 0, to; from <= csv.size() && !csv.empty(); from = to + 1) {
      to = csv.find(',', from);
      if (to == std::string::npos) to = csv.size();
      if (to > from) opt.policies.push_back(csv.substr(from, to - from));
    }
    opt.trace_dir = a->trace_dir;
    const Json p = run_plan(a->scenario, a->sets, opt);
    const std::string out_dir =
        a->out.empty() ? (std::filesystem::path("out") / ("plan-" + p["scenario"].get<std::string>())).string()
                       : a->out;
    OutputFolder folder(out_dir, OutputRules{.overwrite = a->overwrite, .inputs = {a->scenario}});
    write_text(folder.path() / "plan.json", json_file_text(p));
    folder.commit();
    std::fputs(plan_table(p).c_str(), stdout);
    std::printf("wrote %s/plan.json\n", out_dir.c_str());
    return 0;
  };
}

}  // namespace kunsim
