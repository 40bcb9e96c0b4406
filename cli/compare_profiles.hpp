// `kunsim compare-profiles A B`: two measured profiles priced side by side, op by op
// (sim/cost/profile_compare). A and B are profile folders, or KIND/NAME for a profile kunsim
// loads itself (e.g. h100-sxm/aiconfigurator-vllm, the committed import of NVIDIA's measured tables).
#pragma once
#include <functional>

#include <CLI/CLI.hpp>

namespace kunsim {

// Adds the subcommand to `app`; the returned function runs it once the command line chose it
// (InputError for a bad profile or shard, which the caller turns into exit 2).
std::function<int()> add_compare_profiles(CLI::App& app);

}  // namespace kunsim
