// `kunsim validate SCENARIO`: every check a run makes before it starts, and what it would run.
#include <cstdio>
#include <memory>

#include "command.hpp"
#include "run/run_limits.hpp"
#include "run/scenario.hpp"

namespace kunsim {
namespace {

std::string workload_text(const WorkloadSpec& w) {
  const std::string effect = w.rate_scale_effect();
  return effect.empty() ? w.describe() : w.describe() + ": " + effect;
}

}  // namespace

CommandRunner add_validate_command(CLI::App& app) {
  struct Args {
    std::string scenario, trace_dir;
    std::vector<std::string> sets;
    bool force = false;
  };
  auto a = std::make_shared<Args>();
  auto* validate = app.add_subcommand("validate", "Check a scenario without running it");
  validate->add_option("scenario", a->scenario, "Scenario JSON file")->required();
  validate->add_option("--set", a->sets, "Override a scenario key")->take_all();
  validate->add_option("--trace-dir", a->trace_dir, "Folder that relative trace paths resolve against");
  validate->add_flag("--force", a->force, kForceHelp);
  return [a](const CommandContext&) {
    const Scenario sc = load_scenario(a->scenario, a->sets, a->trace_dir);
    check_scenario(sc, a->force);
    if (sc.deployment.groups.size() == 1) {
      std::printf("%s: ok (%s, %d x %s tp=%d, %lld KV blocks per instance, policy %s, %s; costs: %s)\n",
                  a->scenario.c_str(), sc.name.c_str(), sc.instances, sc.model.name.c_str(), sc.engine.tp,
                  static_cast<long long>(sc.memory.num_blocks), sc.policy_name.c_str(),
                  workload_text(sc.workload).c_str(), sc.cost_source.c_str());
      return 0;
    }
    std::printf("%s: ok (%s, %s, policy %s, %s)\n", a->scenario.c_str(), sc.name.c_str(), sc.model.name.c_str(),
                sc.policy_name.c_str(), workload_text(sc.workload).c_str());
    for (const DeploymentGroup& g : sc.deployment.groups)
      std::printf("  %s: %d x %s tp=%d %s, %lld KV blocks per instance; costs: %s\n", g.name.c_str(), g.count,
                  g.hardware.gpu.name.c_str(), g.engine.tp, instance_role_name(g.role),
                  static_cast<long long>(g.memory.num_blocks), g.cost_source.c_str());
    return 0;
  };
}

}  // namespace kunsim
