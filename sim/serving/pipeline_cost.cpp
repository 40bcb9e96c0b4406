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

}  // namespace kunsim
