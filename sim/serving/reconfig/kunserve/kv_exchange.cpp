#include "sim/serving/reconfig/kunserve/kv_exchange.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

namespace kunsim {

namespace {
constexpr std::uint64_t kLayerSent = 0;  // a layer's transfers of the round ended
constexpr std::uint64_t kRoundDue = 1;   // look again for a request that fits
// Nothing fits until some stale request finishes: the group serves meanwhile and the exchange
// looks again this much later.
constexpr SimDuration kRetry = kNsPerSecond / 4;
}  // namespace

void KvExchange::start_round(SimTime now) {
  round_.clear();
  // Only requests whose pages the peers have room for, as the reference retries requests that
  // get no peer blocks.
  for (const auto& [id, r] : port_.stale()) {
    if (static_cast<int>(round_.size()) == batch_) break;
    if (port_.exchange_fits(*r)) round_.push_back(id);
  }
  if (round_.empty() && !port_.stale().empty()) {
    // Nothing fits until some stale request finishes: let the group serve and look again.
    port_.set_blocked(false, now);
    host_.context().events->schedule(now + kRetry, this, kRoundDue);
    return;
  }
  if (round_.empty()) {
    host_.log(Decision{now, DecisionKind::KvExchange, DecisionPhase::Done, {{"instance", pipeline_.id()},
                  {"requests", requests_},
                  {"bytes", bytes_},
                  {"duration_s", ns_to_seconds(now - started_)},
                  {"reason", "every stale request's KV is laid out per stage"}}});
    port_.set_blocked(false, now);
    host_.done(this, {pipeline_.id()});
    return;
  }
  layer_ = 0;
  send_layer(now);
}

void KvExchange::send_layer(SimTime now) {
  const ServingContext& ctx = pipeline_.context();  // its instance group's memory plan
  const int layers = ctx.model->layers;
  const int g = pipeline_.stages();
  const auto& members = pipeline_.members();
  const std::int64_t per_layer_block = ctx.memory->block_bytes / layers;  // one TP rank's share
  while (layer_ < layers) {
    int owner = 0;
    while (stage_first_layer(owner + 1, g, layers) <= layer_) ++owner;
    std::map<int, std::int64_t> from_home;  // bytes each home sends the owner for this layer
    std::unordered_set<std::uint64_t> shared_sent;  // a shared prefix block moves once
    for (RequestId id : round_) {
      auto it = port_.stale().find(id);
      if (it == port_.stale().end() || it->second->home == owner) continue;
      from_home[it->second->home] += port_.exchange_blocks(*it->second, owner, shared_sent) * per_layer_block;
    }
    SimTime end = now;
    for (const auto& [home, bytes] : from_home) {
      end = std::max(end, transfer_over(path_, ctx, members[home], members[owner], bytes, now));
      bytes_ += bytes * static_cast<std::int64_t>(members[home].gpus.size());
    }
    if (end > now) {
      ctx.events->schedule(end, this, kLayerSent);
      return;
    }
    ++layer_;
  }
  handle_event(now, kLayerSent);
}

void KvExchange::handle_event(SimTime now, std::uint64_t arg) {
  if (arg == kRoundDue) {
    start_round(now);
    return;
  }
  if (layer_ < host_.context().model->layers) ++layer_;
  if (layer_ < host_.context().model->layers) {
    send_layer(now);
    return;
  }
  for (RequestId id : round_)
    if (port_.mark_exchanged(id)) ++requests_;
  start_round(now);
}

}  // namespace kunsim
