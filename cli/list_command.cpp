// `kunsim list WHAT`: what a scenario can name (each registry's entries and their help), and
// `params`, every scenario key as the parser documents it. `kunsim policies` is `list policies`.
#include <cstdio>
#include <memory>

#include "command.hpp"
#include "run/key_survey.hpp"
#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/cost_choice.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/dispatch/dispatcher.hpp"
#include "traces/trace_format_registry.hpp"

namespace kunsim {
namespace {

int list(const std::string& what) {
  auto print = [](const auto& registry) {
    for (const auto& [name, e] : registry.items()) std::printf("%-14s %s\n", name.c_str(), e.help.c_str());
  };
  if (what == "params")
    std::fputs(key_listing(survey_scenario_keys()).c_str(), stdout);
  else if (what == "policies")
    print(policy_registry());
  else if (what == "dispatchers")
    print(dispatcher_registry());
  else if (what == "trace-formats")
    print(trace_formats());
  else if (what == "cost-models")
    print(cost_model_registry());
  else  // gpus: the kind, its aiconfigurator system (or -), its datasheet line
    for (const auto& [name, e] : gpu_registry().items())
      std::printf("%-14s %-10s %s\n", name.c_str(),
                  e.entry.aiconfigurator_system.empty() ? "-" : e.entry.aiconfigurator_system.c_str(), e.help.c_str());
  return 0;
}

}  // namespace

CommandRunner add_list_command(CLI::App& app) {
  auto what = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("list", "List what can be named in a scenario: each registry's entries and help");
  cmd->add_option("what", *what,
                  "policies, dispatchers, trace-formats, cost-models, gpus, or params (every scenario key: "
                  "type, default, range, when it is read, help; tab-separated)")
      ->required()
      ->check(CLI::IsMember({"policies", "dispatchers", "trace-formats", "cost-models", "gpus", "params"}));
  return [what](const CommandContext&) { return list(*what); };
}

CommandRunner add_policies_command(CLI::App& app) {
  app.add_subcommand("policies", "List the memory-overload policies");
  return [](const CommandContext&) { return list("policies"); };
}

}  // namespace kunsim
