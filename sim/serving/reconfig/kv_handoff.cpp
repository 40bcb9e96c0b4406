#include "sim/serving/reconfig/kv_handoff.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/serving/dispatch/dispatcher.hpp"
#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

namespace {
constexpr std::uint64_t kRetry = 0;

// The KV heads rank `rank` of a TP group of `tp` stores: a range when heads >= tp, else the
// one head it shares with tp/heads other ranks.
std::pair<int, int> heads_of(int rank, int tp, int heads) {
  if (heads >= tp) return {rank * heads / tp, (rank + 1) * heads / tp};
  const int h = rank * heads / tp;
  return {h, h + 1};
}
}  // namespace

std::vector<ReshardFlow> reshard_flows(int kv_heads, int from_tp, int to_tp) {
  // Who holds each head on the prefill side.
  std::vector<std::vector<int>> holders(kv_heads);
  for (int p = 0; p < from_tp; ++p) {
    const auto [lo, hi] = heads_of(p, from_tp, kv_heads);
    for (int h = lo; h < hi; ++h) holders[h].push_back(p);
  }
  std::vector<ReshardFlow> flows;
  for (int d = 0; d < to_tp; ++d) {
    const auto [lo, hi] = heads_of(d, to_tp, kv_heads);
    for (int h = lo; h < hi; ++h) {
      const int from = holders[h][static_cast<std::size_t>(d) % holders[h].size()];
      auto it = std::find_if(flows.begin(), flows.end(), [&](const ReshardFlow& f) { return f.from == from && f.to == d; });
      if (it == flows.end()) it = flows.insert(flows.end(), ReshardFlow{from, d, 0});
      it->share += 1.0 / kv_heads;
    }
  }
  return flows;
}

const std::vector<ReshardFlow>& KvHandoffs::flows(int kv_heads, int from_tp, int to_tp) {
  auto [it, added] = flows_.try_emplace({from_tp, to_tp});
  if (added) it->second = reshard_flows(kv_heads, from_tp, to_tp);
  return it->second;
}

void KvHandoffs::offer(Engine& prefill, Request* r, SimTime started, SimTime now) {
  const Pending p{r, r->id, prefill.id(), now, started};
  // First come, first served: a request does not pass those already waiting for room.
  if (queue_.empty() && try_start(p, now)) return;
  queue_.push_back(p);
  ++stats_.waited;
  host_.log(Decision{now, DecisionKind::Handoff, DecisionPhase::Begin,
                     {{"request", r->id}, {"from", prefill.id()}, {"queued", queue_.size()},
                      {"reason", "waiting: no decode instance has room for its KV"}}});
}

void KvHandoffs::wake(SimTime now) {
  if (queue_.empty() || retry_pending_) return;
  retry_pending_ = true;
  host_.context().events->schedule(now, this, kRetry);
}

bool KvHandoffs::try_start(const Pending& p, SimTime now) {
  Engine* src = host_.instance(p.from);
  Request* r = src ? host_.handoff_end(*src).find(p.id) : nullptr;
  if (!r) return true;  // aborted by its client meanwhile: nothing to start
  // The whole KV it will hold on the decode side (its cached prefix may be shared there, so
  // this is an upper bound, kept only while the KV moves).
  const std::int64_t need = r->blocks + r->cached_blocks();
  std::vector<Engine*> order;
  for (Engine* d : host_.decoders()) {
    const EngineParams& e = *d->context().engine;
    if (need + e.watermark_blocks(d->kv().capacity()) <= d->kv().capacity()) order.push_back(d);
  }
  if (order.empty()) throw std::logic_error("KvHandoffs: no decode instance can ever hold request " + std::to_string(p.id));
  std::stable_sort(order.begin(), order.end(),
                   [now](const Engine* a, const Engine* b) { return kv_load(*a, now) < kv_load(*b, now); });
  for (Engine* dst : order) {
    if (!host_.handoff_end(*dst).reserve(need)) continue;
    // What moves: its own blocks and the prefix blocks the decode side does not cache.
    const ServingContext& from = src->context();
    const ServingContext& to = dst->context();
    const std::int64_t blocks =
        r->blocks + dst->kv().prefixes().missing_blocks_in(r->prefix.data(), r->cached_keys, r->prefix_unit, 0);
    // Bytes of all heads (what one GPU of a TP1 instance holds), whatever either side's TP.
    const ModelSpec& m = *from.model;
    const std::int64_t bytes =
        blocks * from.engine->block_size * m.kv_layers() * m.kv_bytes_per_token_per_layer_per_gpu(1);
    const Member& a = src->members()[0];
    const Member& b = dst->members()[0];
    const bool streamed = layerwise_ && p.prefilled == now;  // room at once: layers went as computed
    const SimTime earliest = streamed ? p.started : now;
    SimTime end = now;
    for (const ReshardFlow& f : flows(m.kv_heads, static_cast<int>(a.gpus.size()), static_cast<int>(b.gpus.size()))) {
      const Route& route = from.topology->gpu_to_gpu(a.gpus[f.from], b.gpus[f.to]);
      const auto part = static_cast<std::int64_t>(static_cast<double>(bytes) * f.share);
      end = std::max(end, from.links->reserve(route, part, earliest).end);
      // The last layer is computed at the prefill's end, and moves after it.
      if (streamed) end = std::max(end, now + from.links->duration(route, part / m.layers));
    }
    const std::uint64_t tag = next_tag_++;
    flights_.emplace(tag, Flight{p, dst->id(), need, bytes, blocks, now});
    to.events->schedule(end, this, tag);
    return true;
  }
  return false;
}

void KvHandoffs::handle_event(SimTime now, std::uint64_t arg) {
  if (arg == kRetry) {
    retry_pending_ = false;
    while (!queue_.empty() && try_start(queue_.front(), now)) queue_.pop_front();
    return;
  }
  auto it = flights_.find(arg);
  Flight f = it->second;
  flights_.erase(it);
  arrive(f, now);
}

void KvHandoffs::arrive(Flight& f, SimTime now) {
  Engine* src = host_.instance(f.p.from);
  Engine* dst = host_.instance(f.to);
  Request* r = src ? host_.handoff_end(*src).find(f.p.id) : nullptr;
  if (!r) {  // its client gave up while the KV moved
    host_.handoff_end(*dst).unreserve(f.reserved);
    ++stats_.aborted;
    wake(now);
    return;
  }
  host_.handoff_end(*src).hand_over(r, now);
  ++stats_.handoffs;
  stats_.bytes += f.bytes;
  stats_.wait_s.push_back(ns_to_seconds(f.begin - f.p.prefilled));
  stats_.transfer_s.push_back(ns_to_seconds(now - f.begin));
  host_.log(Decision{now, DecisionKind::Handoff, DecisionPhase::None,
                     {{"request", f.p.id}, {"from", f.p.from}, {"to", f.to}, {"blocks", f.blocks}, {"bytes", f.bytes},
                      {"waited_s", ns_to_seconds(f.begin - f.p.prefilled)}, {"transfer_s", ns_to_seconds(now - f.begin)}}});
  host_.handoff_end(*dst).receive(r, f.reserved, now);
}

}  // namespace kunsim
