#include "sim/serving/reconfig/kunserve/stage_relay.hpp"

#include <algorithm>

namespace kunsim {

namespace {
int stage_of(int layer, int g, int layers) {
  int r = 0;
  while (stage_first_layer(r + 1, g, layers) <= layer) ++r;
  return r;
}
}  // namespace

bool StageRelay::layer_moves(int layer, int from_stages, int to_stages, int layers, int* from, int* to) {
  const int k = to_stages / from_stages;
  *from = stage_of(layer, from_stages, layers) * k;
  *to = stage_of(layer, to_stages, layers);
  return *from != *to;
}

void StageRelay::send_offset(SimTime now) {
  const ServingContext& ctx = pipeline_.context();  // its instance group's memory plan
  const int L = ctx.model->layers, G = pipeline_.stages();
  const std::int64_t per_layer = blocks_ * (ctx.memory->block_bytes / L);  // one TP rank's pages of a layer
  const auto& members = pipeline_.members();
  int longest = 0;
  for (int o = 0; o < from_; ++o) longest = std::max(longest, stage_layers(o, from_, L));
  while (offset_ < longest) {
    SimTime end = now;
    for (int o = 0; o < from_; ++o) {
      if (offset_ >= stage_layers(o, from_, L)) continue;
      int src = 0, dst = 0;
      if (!layer_moves(stage_first_layer(o, from_, L) + offset_, from_, G, L, &src, &dst) || per_layer == 0) continue;
      end = std::max(end, transfer_between(*ctx.links, *ctx.topology, members[src], members[dst], per_layer, now));
      bytes_ += per_layer * static_cast<std::int64_t>(members[src].gpus.size());
    }
    if (end > now) {
      ctx.events->schedule(end, this);
      return;
    }
    ++offset_;
  }
  finish(now);
}

void StageRelay::handle_event(SimTime now, std::uint64_t) {
  ++offset_;
  send_offset(now);
}

void StageRelay::finish(SimTime now) {
  host_.log(Decision{now, DecisionKind::Grow, DecisionPhase::Done, {{"instance", pipeline_.id()},
             {"relaid_blocks", blocks_},
             {"bytes", bytes_},
             {"duration_s", ns_to_seconds(now - started_)},
             {"reason", "per-stage KV re-laid for the new stage boundaries"}}});
  // `then` may start the next process, which must find this one still registered; done() last,
  // and nothing after it (this process is deleted once its event returns).
  const bool handed_over = then_(now);
  if (handed_over) host_.done(this, {});
  else host_.done(this, {pipeline_.id()});
}

}  // namespace kunsim
