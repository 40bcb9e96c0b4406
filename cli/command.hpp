// Command: one kunsim subcommand. Each lives in a file of its own (cli/*_command.cpp) and is
// listed once in cli/commands.cpp. main() adds every command to the parser, runs the one the
// command line chose, and turns errors into exit codes (InputError: 2, anything else: 1). A
// command parses flags and writes what the libraries return; the logic is below cli/ (run/,
// whatif/, sim/), where it is tested without the binary.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <span>
#include <string>

namespace kunsim {

// What a command may need of the process beyond its flags (MPI takes argc and argv).
struct CommandContext {
  int* argc = nullptr;
  char*** argv = nullptr;
};

// Runs the command once the command line chose it; returns the exit code.
using CommandRunner = std::function<int(const CommandContext&)>;

struct Command {
  const char* name;  // as typed: `kunsim NAME`
  // Adds the subcommand and its flags to `app`; the runner reads the flags it bound.
  CommandRunner (*add)(CLI::App& app);
};

// Every command, in the order `kunsim --help` lists them.
std::span<const Command> commands();

inline constexpr const char* kForceHelp =
    "Lift the limits on a run's size (README: Limits), for a run that is that big";
// --out and --html: a path given must name something (an empty one is refused, not defaulted).
inline const CLI::Validator kOutputPath(
    [](std::string& path) { return path.empty() ? std::string("an empty path names no output") : std::string(); },
    "PATH");
inline constexpr const char* kOverwriteHelp = "Replace a non-empty --out folder that kunsim did not write";

// Each command's adder (cli/<name>_command.cpp).
CommandRunner add_run_command(CLI::App& app);
CommandRunner add_validate_command(CLI::App& app);
CommandRunner add_models_command(CLI::App& app);
CommandRunner add_policies_command(CLI::App& app);
CommandRunner add_list_command(CLI::App& app);
CommandRunner add_trace_stats_command(CLI::App& app);
CommandRunner add_sweep_command(CLI::App& app);
CommandRunner add_plan_command(CLI::App& app);
CommandRunner add_report_command(CLI::App& app);
CommandRunner add_fit_command(CLI::App& app);
CommandRunner add_compare_profiles_command(CLI::App& app);
CommandRunner add_import_command(CLI::App& app);
CommandRunner add_replay_bench_command(CLI::App& app);
CommandRunner add_diff_command(CLI::App& app);

}  // namespace kunsim
