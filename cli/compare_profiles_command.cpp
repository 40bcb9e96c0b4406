// `kunsim compare-profiles A B`: two measured profiles priced side by side, op by op
// (sim/cost/profile_compare). A and B are profile folders, or KIND/NAME for a profile kunsim
// loads itself (e.g. h100-sxm/aiconfigurator-vllm, the committed import of NVIDIA's measured tables).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "sim/core/input_error.hpp"
#include "sim/core/output_folder.hpp"
#include "sim/cost/profile_compare.hpp"
#include "sim/cost/shipped_profiles.hpp"

namespace kunsim {

namespace {

struct CompareArgs {
  std::string a, b, out;
  std::vector<std::string> models;
  std::vector<int> tps;
};

// A folder, else KIND/NAME among the profiles kunsim loads for that GPU kind.
std::shared_ptr<const Profile> open_profile(const std::string& what) {
  namespace fs = std::filesystem;
  if (fs::is_directory(what)) return std::make_shared<const Profile>(load_profile(what));
  const auto slash = what.find('/');
  if (slash != std::string::npos && !fs::exists(what))
    if (auto p = shipped_profile_named(what.substr(0, slash), what.substr(slash + 1))) return p;
  throw InputError(
      what + ": not a profile folder, nor KIND/NAME of a profile kunsim loads (e.g. h100-sxm/aiconfigurator-vllm)");
}

}  // namespace

CommandRunner add_compare_profiles_command(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand("compare-profiles",
                                 "Price two measured profiles side by side: per-op A/B ratios and MAPE vs B");
  cmd->add_option("a", args->a, "Profile A: a folder, or KIND/NAME")->required();
  cmd->add_option("b", args->b, "Profile B, the reference: a folder, or KIND/NAME")->required();
  cmd->add_option("--model", args->models, "Model shards to compare (repeatable, with --tp; default: what A measured)");
  cmd->add_option("--tp", args->tps, "TP degree of each --model (default 1)")->check(CLI::Range(1, 64));
  cmd->add_option("--out", args->out, "Also write the comparison as JSON to this file")->check(kOutputPath);
  return [args](const CommandContext&) {
    if (!args->tps.empty() && args->tps.size() != args->models.size())
      throw InputError("--tp: give one per --model (" + std::to_string(args->models.size()) + " models, " +
                       std::to_string(args->tps.size()) + " TP degrees)");
    std::vector<std::pair<std::string, int>> shards;
    for (std::size_t i = 0; i < args->models.size(); ++i)
      shards.push_back({args->models[i], args->tps.empty() ? 1 : args->tps[i]});
    const auto a = open_profile(args->a), b = open_profile(args->b);
    const Json c = compare_profiles(*a, *b, shards);
    std::fputs(comparison_table(c).c_str(), stdout);
    if (!args->out.empty()) {
      write_file_atomic(args->out, json_file_text(c));
      std::printf("wrote %s\n", args->out.c_str());
    }
    return 0;
  };
}

}  // namespace kunsim
