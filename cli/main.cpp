// kunsim: the command line. Subcommands map one to one onto the contracts of DESIGN.md; each is
// a file of its own (cli/command.hpp, the table in cli/commands.cpp). Every user error surfaces
// as an InputError: exit code 2 with one line naming the field or line.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "command.hpp"
#include "signals.hpp"
#include "sim/core/input_error.hpp"
#include "sim/core/interruption.hpp"
#include "sim/core/version.hpp"

using namespace kunsim;

int main(int argc, char** argv) {
  CLI::App app{"kunsim: discrete-event simulator of LLM-serving GPU clusters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("kunsim ") + kunsim_version() + " (" + kunsim_git_describe() + ")");
  std::map<std::string, CommandRunner> runners;
  for (const Command& c : commands()) runners.emplace(c.name, c.add(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "kunsim: %s (kunsim --help lists the commands and flags)\n",
                 escape_control_bytes(e.what()).c_str());
    return 2;
  }

  install_signal_handlers();
  try {
    for (const auto& [name, run] : runners)
      if (app.got_subcommand(name)) return run(CommandContext{&argc, &argv});
    return 2;  // require_subcommand(1) makes this unreachable
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "kunsim: interrupted by %s; outputs left as they were\n",
                 e.signal() == SIGINT    ? "SIGINT"
                 : e.signal() == SIGTERM ? "SIGTERM"
                                         : "a signal");
    return 128 + e.signal();
  } catch (const InputError& e) {
    std::fprintf(stderr, "kunsim: %s\n", escape_control_bytes(e.what()).c_str());
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // The file system refused a path the user gave (permissions, a full disk, a name too long).
    std::fprintf(stderr, "kunsim: %s\n", escape_control_bytes(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kunsim: internal error: %s\n", escape_control_bytes(e.what()).c_str());
    return 1;
  }
}
