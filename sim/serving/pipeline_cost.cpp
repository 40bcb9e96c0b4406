#include "sim/serving/pipeline_cost.hpp"

#include <algorithm>

namespace kunsim {

double pipeline_cycle_ns(const CostModel& cost, const PipelineGeometry& geo, const BatchShape& s, int stale_tokens) {
  const int g = geo.stages;
  const int stage_layers_max = stage_layers(g - 1, g, geo.model_layers);
  const PipelineLinks& links = geo.links;
  double stage_sum = 0, traversal = 0;
  for (const BatchShape& mb : split_micro_batches(s, g, stage_layers_max)) {
    const IterationCost c = cost.iteration(mb);
    double stage = (c.sum() - c.cpu - c.lm_head) * 1e9;
    const double stale_here = s.tokens() > 0 ? stale_tokens * static_cast<double>(mb.tokens()) / s.tokens() : 0;
    if (stale_here > 0) {
      const double remote_tokens = stale_here * (g - 1) / g;  // a stale token's home is one of g stages
      stage += stage_layers_max * (2.0 * static_cast<double>(links.remote_latency_ns) +
                                   remote_tokens * links.remote_bytes_per_token_layer / geo.tp / links.remote_bytes_per_s * 1e9);
    }
    const double send = mb.tokens() > 0 ? cost.pipeline_send(mb.tokens(), links.hop_bytes_per_s, links.hop_latency_ns) * 1e9 : 0;
    stage_sum += stage;
    traversal = std::max(traversal, g * stage + (g - 1) * send + c.lm_head * 1e9);
  }
  return std::max(stage_sum, traversal) + cost.iteration(s).cpu * 1e9;
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
