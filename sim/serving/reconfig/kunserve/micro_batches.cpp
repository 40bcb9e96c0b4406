#include "sim/serving/reconfig/kunserve/micro_batches.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace kunsim {

std::vector<BatchShape> split_micro_batches(const BatchShape& b, int m, int layers_per_stage) {
  std::vector<BatchShape> out(m);
  std::vector<std::int64_t> load(m, 0);
  for (int j = 0; j < m; ++j) {
    out[j].layers = layers_per_stage;
    out[j].num_decodes = b.num_decodes / m + (j < b.num_decodes % m ? 1 : 0);
    out[j].decode_context_sum = b.num_decodes ? b.decode_context_sum * out[j].num_decodes / b.num_decodes : 0;
    out[j].sampled = out[j].num_decodes;
    load[j] = out[j].num_decodes;
  }
  // Every micro-batch should carry the same tokens. Chunks go longest first to the least
  // loaded micro-batch; a chunk longer than that micro-batch's gap to the even share is cut,
  // its rest continuing (with the context it just extended) in the next least loaded one.
  const std::int64_t share = (b.tokens() + m - 1) / m;
  std::vector<std::size_t> order(b.prefills.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return b.prefills[x].tokens > b.prefills[y].tokens; });
  for (std::size_t i : order) {
    PrefillChunk rest = b.prefills[i];
    while (rest.tokens > 0) {
      const auto j = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      const std::int64_t gap = std::max<std::int64_t>(share - load[j], 1);
      const int take = static_cast<int>(std::min<std::int64_t>(rest.tokens, gap));
      out[j].prefills.push_back({take, rest.context});
      load[j] += take;
      rest.tokens -= take;
      rest.context += take;
      if (rest.tokens == 0) ++out[j].sampled;
    }
  }
  return out;
}

PipelineLinks pipeline_links(const Topology& topo, const std::vector<Member>& members, const ModelSpec& model) {
  PipelineLinks p;
  auto route_figures = [&](int a, int b) {
    double bw = std::numeric_limits<double>::max();
    std::int64_t lat = 0;
    for (LinkId id : topo.gpu_to_gpu(a, b)) {
      bw = std::min(bw, topo.link(id).bytes_per_s);
      lat += topo.link(id).latency_ns;
    }
    return std::pair{bw, lat};
  };
  p.hop_bytes_per_s = p.remote_bytes_per_s = std::numeric_limits<double>::max();
  for (std::size_t r = 0; r < members.size(); ++r)
    for (std::size_t h = 0; h < members.size(); ++h) {
      if (r == h) continue;
      const auto [bw, lat] = route_figures(members[r].gpus[0], members[h].gpus[0]);
      if (h == r + 1) {
        p.hop_bytes_per_s = std::min(p.hop_bytes_per_s, bw);
        p.hop_latency_ns = std::max(p.hop_latency_ns, lat);
      }
      p.remote_bytes_per_s = std::min(p.remote_bytes_per_s, bw);
      p.remote_latency_ns = std::max(p.remote_latency_ns, lat);
    }
  p.remote_bytes_per_token_layer = static_cast<double>(2 * model.q_width() + 2 * model.kv_width()) * kActivationBytes;
  return p;
}

}  // namespace kunsim
