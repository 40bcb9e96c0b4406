#include "sim/serving/micro_batches.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace kunsim {

std::vector<BatchShape> split_micro_batches(const BatchShape& b, int m, int layers_per_stage) {
  std::vector<BatchShape> out(m);
  for (auto& mb : out) mb.layers = layers_per_stage;
  // Longest chunk first, each to the micro-batch with the fewest prefill tokens so far.
  std::vector<std::size_t> order(b.prefills.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return b.prefills[x].tokens > b.prefills[y].tokens; });
  std::vector<std::int64_t> load(m, 0);
  for (std::size_t i : order) {
    const auto j = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    out[j].prefills.push_back(b.prefills[i]);
    load[j] += b.prefills[i].tokens;
    ++out[j].sampled;
  }
  for (int j = 0; j < m; ++j) {
    // Decodes fill the micro-batches with the least prefill first, so the split stays even.
    out[j].num_decodes = b.num_decodes / m;
  }
  std::vector<std::size_t> by_load(m);
  std::iota(by_load.begin(), by_load.end(), 0);
  std::stable_sort(by_load.begin(), by_load.end(), [&](std::size_t x, std::size_t y) { return load[x] < load[y]; });
  for (int k = 0; k < b.num_decodes % m; ++k) ++out[by_load[k]].num_decodes;
  for (auto& mb : out) {
    mb.decode_context_sum = b.num_decodes ? b.decode_context_sum * mb.num_decodes / b.num_decodes : 0;
    mb.sampled += mb.num_decodes;
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
  p.remote_bytes_per_token_layer = static_cast<double>(2 * model.q_width() + 2 * model.kv_width()) * model.dtype_bytes;
  return p;
}

}  // namespace kunsim
