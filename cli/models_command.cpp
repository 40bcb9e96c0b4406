// `kunsim models`: the model catalogue.
#include <cstdio>

#include "command.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

CommandRunner add_models_command(CLI::App& app) {
  app.add_subcommand("models", "List the model catalogue");
  return [](const CommandContext&) {
    std::printf("%-14s %6s %6s %5s %4s %6s %7s %10s %14s %8s\n", "name", "layers", "hidden", "heads", "kv", "ffn",
                "vocab", "weights", "kv/token", "context");
    for (const auto& m : model_catalogue())
      std::printf("%-14s %6d %6d %5d %4d %6d %7d %7.2f GiB %12lld B %8d\n", m.name.c_str(), m.layers, m.hidden, m.heads,
                  m.kv_heads, m.ffn, m.vocab, static_cast<double>(m.total_weight_bytes()) / (1 << 30),
                  static_cast<long long>(m.kv_bytes_per_token()), m.max_model_len);
    return 0;
  };
}

}  // namespace kunsim
