#include "sim/serving/reconfig/kunserve/pipeline_cost.hpp"

#include <algorithm>

#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

double pipeline_cycle_ns(const CostModel& cost, const PipelineGeometry& geo, const BatchShape& s, int stale_tokens,
                         const std::vector<int>* stale_by_home) {
  const int g = geo.stages;
  return pipeline_cycle_ns(cost, geo, s, split_micro_batches(s, g, stage_layers(g - 1, g, geo.model_layers)),
                           stale_tokens, stale_by_home);
}

double pipeline_cycle_ns(const CostModel& cost, const PipelineGeometry& geo, const BatchShape& s,
                         const std::vector<BatchShape>& micro_batches, int stale_tokens,
                         const std::vector<int>* stale_by_home) {
  const int g = geo.stages;
  const int stage_layers_max = stage_layers(g - 1, g, geo.model_layers);
  const PipelineLinks& links = geo.links;
  // Where the stale tokens' KV is: the share homed on each member (even when not given).
  std::vector<double> home(g, 1.0 / g);
  if (stale_by_home) {
    double all = 0;
    for (int h : *stale_by_home) all += h;
    if (all > 0)
      for (int r = 0; r < g; ++r) home[r] = (*stale_by_home)[r] / all;
  }
  std::vector<double> stage_sum(g, 0.0);  // each stage's busy time over the cycle
  double traversal = 0;
  for (const BatchShape& mb : micro_batches) {
    const IterationCost c = cost.iteration(mb);
    const double base = (c.sum() - c.cpu - c.lm_head) * 1e9;
    const double send = mb.tokens() > 0 ? cost.pipeline_send(mb.tokens(), links.hop_bytes_per_s, links.hop_latency_ns) * 1e9 : 0;
    const double stale_here = s.tokens() > 0 ? stale_tokens * static_cast<double>(mb.tokens()) / s.tokens() : 0;
    // The lm_head (and sampling) runs on the last stage only, after its layers: its busy time too.
    stage_sum[g - 1] += c.lm_head * 1e9;
    if (stale_here <= 0) {  // every stage runs the micro-batch in the same time
      for (double& t : stage_sum) t += base;
      traversal = std::max(traversal, g * base + (g - 1) * send + c.lm_head * 1e9);
      continue;
    }
    // Remote attention. For a stage's layers, a stale token homed on another member ships Q, K,
    // V there and waits for O; the attention itself runs on the home's GPU, which holds the KV.
    // So stage r skips the stale tokens' attention homed elsewhere and waits instead, and the
    // home member does that attention for every other stage's layers.
    const double stale_attention =
        mb.num_decodes > 0 ? c.attn_decode * 1e9 * std::min(1.0, stale_here / mb.num_decodes) : 0;
    double through = 0;
    for (int r = 0; r < g; ++r) {
      const double away = stale_here * (1.0 - home[r]);  // this stage's stale tokens homed elsewhere
      const double wait = away <= 0 ? 0
                                    : stage_layers_max * (2.0 * static_cast<double>(links.remote_latency_ns) +
                                                          away * links.remote_bytes_per_token_layer / geo.tp /
                                                              links.remote_bytes_per_s * 1e9);
      const double t = base - stale_attention * (1.0 - home[r]) + wait + stale_attention * home[r] * (g - 1);
      stage_sum[r] += t;
      through += t;
    }
    traversal = std::max(traversal, through + (g - 1) * send + c.lm_head * 1e9);
  }
  return std::max(*std::max_element(stage_sum.begin(), stage_sum.end()), traversal) + cost.iteration(s).cpu * 1e9;
}

SimTime book_pipeline_links(const ServingContext& ctx, const std::vector<Member>& members, const PipelineGeometry& geo,
                            const BatchShape& s, int stale_tokens, const std::vector<int>& stale_decodes_by_home,
                            std::int64_t steps, SimTime start) {
  SimTime end = start;
  const int g = geo.stages;
  if (g == 1 || s.tokens() == 0) return end;
  const std::int64_t act = ctx.cost->activation_bytes(s.tokens()) / geo.tp * steps;
  for (int r = 0; r + 1 < g; ++r)
    end = std::max(end, transfer_between(*ctx.links, *ctx.topology, members[r], members[r + 1], act, start));
  if (stale_tokens == 0) return end;
  for (int r = 0; r < g; ++r) {
    const int layers = stage_layers(r, g, geo.model_layers);
    for (int h = 0; h < g; ++h) {
      if (h == r || stale_decodes_by_home[h] == 0) continue;
      const auto bytes = static_cast<std::int64_t>(stale_decodes_by_home[h] * geo.links.remote_bytes_per_token_layer *
                                                   layers / geo.tp) * steps;
      end = std::max(end, transfer_between(*ctx.links, *ctx.topology, members[r], members[h], bytes, start));
    }
  }
  return end;
}

}  // namespace kunsim
