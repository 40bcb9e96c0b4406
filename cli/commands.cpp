#include "command.hpp"

namespace kunsim {

std::span<const Command> commands() {
  static const Command table[] = {
      {"run", add_run_command},
      {"validate", add_validate_command},
      {"models", add_models_command},
      {"policies", add_policies_command},
      {"list", add_list_command},
      {"trace-stats", add_trace_stats_command},
      {"sweep", add_sweep_command},
      {"plan", add_plan_command},
      {"report", add_report_command},
      {"fit", add_fit_command},
      {"compare-profiles", add_compare_profiles_command},
      {"import", add_import_command},
      {"diff", add_diff_command},
      {"replay-bench", add_replay_bench_command},
  };
  return table;
}

}  // namespace kunsim
