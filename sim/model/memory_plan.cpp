#include "sim/model/memory_plan.hpp"

#include <algorithm>
#include <cstdio>

#include "sim/core/input_error.hpp"

namespace kunsim {

std::int64_t estimate_workspace_bytes(const ModelSpec& m, const EngineParams& e) {
  if (e.workspace_bytes) return *e.workspace_bytes;
  const std::int64_t t = e.max_num_batched_tokens, tp = e.tp, d = kActivationBytes;
  // Live tensors at the MLP peak of one layer: residual + normed input + attention output
  // (4 x hidden), the QKV output, and the MLP's: a dense one's gate/up output (2 x ffn) and
  // activated product (ffn); an MoE layer's per routed copy of the token (fused_moe's three
  // caches: gate/up, activated, and the expert outputs before they are summed), its experts'
  // intermediate split by TP (whole under expert parallelism), and the router's logits.
  const std::int64_t moe_tp = m.expert_parallel ? 1 : tp;
  // A model with both kinds of layer peaks at the larger.
  const std::int64_t dense_mlp = m.dense_layers_in(0, m.layers) > 0 ? 3 * std::int64_t{m.ffn} / tp : 0;
  const std::int64_t moe_mlp = m.moe.on()
                                   ? std::int64_t{m.moe.top_k} * (3LL * m.moe.expert_ffn / moe_tp + m.hidden) +
                                         3LL * m.moe.shared_experts * m.moe.shared_expert_ffn / tp + m.moe.experts
                                   : 0;
  const std::int64_t mlp = std::max(dense_mlp, moe_mlp);
  const std::int64_t per_token = 4 * std::int64_t{m.hidden} * d + (m.q_width() + 2 * m.kv_width()) / tp * d + mlp * d;
  // Float32 logits for one sampled token per running sequence.
  const std::int64_t logits = std::int64_t{std::min(e.max_num_seqs, e.max_num_batched_tokens)} * m.vocab / tp * 4;
  return t * per_token + logits;
}

MemoryPlan make_memory_plan(const ModelSpec& m, const EngineParams& e, std::int64_t gpu_bytes,
                            const std::string& path) {
  MemoryPlan p;
  p.gpu_bytes = gpu_bytes;
  p.usable_bytes = static_cast<std::int64_t>(static_cast<double>(gpu_bytes) * e.gpu_memory_utilization);
  p.draft_weight_bytes = e.speculative.draft_weight_bytes_per_gpu(m, e.tp);
  p.weight_bytes = m.weight_bytes_per_gpu(e.tp) + p.draft_weight_bytes;
  p.workspace_bytes = estimate_workspace_bytes(m, e);
  p.reserve_bytes = kRuntimeReserveBytes;
  p.kv_bytes = p.usable_bytes - p.weight_bytes - p.workspace_bytes - p.reserve_bytes;
  // A speculative proposer with KV of its own keeps it in the same blocks (vLLM gives the
  // draft's layers the target's block table), so a block holds both.
  p.block_bytes = std::int64_t{e.block_size} * (m.kv_bytes_per_token_per_layer_per_gpu(e.tp) * m.kv_layers() +
                                                e.speculative.draft_kv_bytes_per_token_per_gpu(e.tp));
  p.num_blocks = p.kv_bytes > 0 ? p.kv_bytes / p.block_bytes : 0;
  if (p.num_blocks <= 0) {
    char msg[512];
    const double gib = static_cast<double>(kGiB);
    std::snprintf(msg, sizeof msg,
                  "%s: %s with tp=%d does not fit: needs %.2f GiB per GPU (weights %.2f + workspace %.2f + "
                  "reserve %.2f) plus KV blocks, but %.2f GiB are usable (%.2f GiB x gpu_memory_utilization %.2f)",
                  path.c_str(), m.name.c_str(), e.tp,
                  static_cast<double>(p.weight_bytes + p.workspace_bytes + p.reserve_bytes) / gib,
                  static_cast<double>(p.weight_bytes) / gib, static_cast<double>(p.workspace_bytes) / gib,
                  static_cast<double>(p.reserve_bytes) / gib, static_cast<double>(p.usable_bytes) / gib,
                  static_cast<double>(gpu_bytes) / gib, e.gpu_memory_utilization);
    throw InputError(msg);
  }
  // vLLM refuses to start an engine whose KV cache cannot hold one request of max_model_len
  // tokens ("To serve at least one request with the model's max seq len ... Try increasing
  // gpu_memory_utilization or decreasing max_model_len"), so kunsim does too.
  // A sliding-window model's request also holds its window blocks (ModelSpec::window_blocks).
  const std::int64_t kv_tokens = (p.num_blocks - m.window_blocks(e.block_size)) * e.block_size;
  if (kv_tokens < e.max_model_len) {
    char msg[512];
    std::snprintf(msg, sizeof msg,
                  "%s: %s with tp=%d does not fit a request of max_model_len %d: its KV holds %lld tokens an "
                  "instance, and vLLM refuses to start an engine that cannot hold one. Set deployment.max_model_len "
                  "to at most %lld, or raise gpu_memory_utilization or tp",
                  path.c_str(), m.name.c_str(), e.tp, e.max_model_len, static_cast<long long>(kv_tokens),
                  static_cast<long long>(kv_tokens));
    throw InputError(msg);
  }
  return p;
}

}  // namespace kunsim
