// `kunsim models`: the model catalogue, with the figures a planner sizes a deployment by:
// parameters in all and per token (an MoE model computes with its top-k experts only), weight
// bytes as the checkpoint stores them, and KV bytes per token (bf16; fp8 KV halves them; of the
// layers whose KV grows with the context: a sliding-window layer holds a fixed few blocks).
#include <cstdio>
#include <string>

#include "command.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

CommandRunner add_models_command(CLI::App& app) {
  app.add_subcommand("models", "List the model catalogue");
  return [](const CommandContext&) {
    std::printf("%-16s %6s %6s %5s %4s %6s %-12s %7s %8s %8s %-9s %10s %12s %8s\n", "name", "layers", "hidden", "heads",
                "kv", "ffn", "experts", "vocab", "params", "active", "weights", "", "kv/token", "context");
    for (const auto& m : model_catalogue()) {
      char experts[32] = "-";
      if (m.moe.on()) std::snprintf(experts, sizeof experts, "%d/%dx%d", m.moe.top_k, m.moe.experts, m.moe.expert_ffn);
      // Experts stored apart from the rest (gpt-oss's mxfp4) show as "rest+experts".
      std::string weights = dtype_name(m.weight_dtype);
      if (m.moe.on() && m.expert_dtype() != m.weight_dtype) weights += std::string("+") + dtype_name(m.expert_dtype());
      std::printf("%-16s %6d %6d %5d %4d %6d %-12s %7d %7.2fB %7.2fB %-10s %5.2f GiB %10lld B %8d\n", m.name.c_str(),
                  m.layers, m.hidden, m.heads, m.kv_heads, m.ffn, experts, m.vocab,
                  static_cast<double>(m.total_params()) / 1e9, static_cast<double>(m.active_params()) / 1e9,
                  weights.c_str(), static_cast<double>(m.total_weight_bytes()) / (1 << 30),
                  static_cast<long long>(m.kv_bytes_per_token()), m.max_model_len);
    }
    return 0;
  };
}

}  // namespace kunsim
