// `kunsim diff A B`: the first decision where two decisions.jsonl files (or the run folders
// holding them) differ (exit 1), for CI that must notice when a planner decision changes.
#include <cstdio>
#include <memory>

#include "command.hpp"
#include "sim/metrics/decision_diff.hpp"

namespace kunsim {

CommandRunner add_diff_command(CLI::App& app) {
  struct Args {
    std::string a, b;
  };
  auto a = std::make_shared<Args>();
  auto* diff = app.add_subcommand(
      "diff", "First differing decision of two decisions.jsonl files or run folders (exit 1 if any)");
  diff->add_option("a", a->a, "Expected decisions.jsonl, or a run folder")->required();
  diff->add_option("b", a->b, "Actual decisions.jsonl, or a run folder")->required();
  return [a](const CommandContext&) {
    const DecisionDiffResult r = diff_decisions(a->a, a->b);
    std::fputs(r.report.c_str(), stdout);
    return r.same ? 0 : 1;
  };
}

}  // namespace kunsim
