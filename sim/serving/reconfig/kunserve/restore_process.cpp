#include "sim/serving/reconfig/kunserve/restore_process.hpp"

#include <unordered_set>

#include <algorithm>

namespace kunsim {

void RestoreProcess::handle_event(SimTime now, std::uint64_t) {
  switch (step_) {
    case Step::Vacate: poll(now); break;
    case Step::Pull:
      if (pull_ == RestorePull::Stall)
        gather(now);  // paused since the pull began
      else
        pipeline().pause(now, [this](SimTime t) { gather(t); });
      break;
    case Step::Gather: split(now); break;
  }
}

void RestoreProcess::poll(SimTime now) {
  Engine& g = pipeline();
  if (g.kv_used_at(now) > base_blocks(g.members()) || !host_.pipeline_port(g).stale().empty()) {
    host_.context().events->schedule(now + poll_interval_, this);
    return;
  }
  host_.stop_dispatching(id_);
  if (pull_ == RestorePull::Stall)
    pipeline().pause(now, [this](SimTime t) { pull(t); });
  else
    pull(now);
}

void RestoreProcess::pull(SimTime now) {
  // Member r fetches every layer it dropped from the stage that kept it.
  Engine& g = pipeline();
  const ServingContext& ctx = g.context();  // its instance group's engine and memory plan
  const int G = g.stages(), L = ctx.model->layers;
  SimTime end = now;
  std::int64_t bytes = 0;
  for (int r = 0; r < G; ++r)
    for (int p = 0; p < G; ++p) {
      if (p == r) continue;
      const std::int64_t b =
          ctx.model->layers_weight_bytes_per_gpu(stage_first_layer(p, G, L), stage_layers(p, G, L), ctx.engine->tp);
      end = std::max(end, transfer_between(*ctx.links, *ctx.topology, g.members()[p], g.members()[r], b, now));
      bytes += b * static_cast<std::int64_t>(g.members()[r].gpus.size());
    }
  host_.fusion_port(g).set_state("restoring");
  host_.log(Decision{now,
                     DecisionKind::Restore,
                     DecisionPhase::Pull,
                     {{"instance", id_},
                      {"bytes", bytes},
                      {"duration_s", ns_to_seconds(end - now)},
                      {"serving", pull_ == RestorePull::Stall ? "stalled" : "overlapped"},
                      {"reason", "extra KV blocks vacated; pulling dropped layers from their peers"}}});
  step_ = Step::Pull;
  ctx.events->schedule(end, this);
}

// The group stops; each request is given to one member and its per-stage KV gathered there.
// The requests stay in the paused group until the split, so none is ever outside an engine.
void RestoreProcess::gather(SimTime now) {
  Engine& g = pipeline();
  const ServingContext& ctx = g.context();
  const int G = g.stages(), L = ctx.model->layers;
  const std::vector<Member> members = g.members();
  assigned_.assign(G, {});
  unfit_.clear();
  std::vector<std::int64_t> room(G);
  for (int m = 0; m < G; ++m) room[m] = members[m].base_blocks - ctx.engine->block_size;  // growth margin
  std::vector<Request*> running;
  for (Request* r : g.requests_in_flight())  // synced, unchanged
    if (r->phase == Phase::Decode || r->phase == Phase::Prefill) running.push_back(r);
  std::stable_sort(running.begin(), running.end(), [](const Request* a, const Request* b) {
    return a->blocks + a->cached_blocks() > b->blocks + b->cached_blocks();
  });
  // A shared prefix is gathered once per member that gets requests holding it.
  std::vector<std::unordered_set<std::uint64_t>> prefixes_on(G);
  auto need_on = [&](const Request& r, int m) {
    std::int64_t n = r.blocks;
    for (int k = 0; k < r.cached_keys; ++k) n += prefixes_on[m].count(r.prefix[k]) ? 0 : r.prefix_unit;
    return n;
  };
  SimTime end = now;
  std::int64_t bytes = 0;
  for (Request* r : running) {
    const auto m = static_cast<int>(std::max_element(room.begin(), room.end()) - room.begin());
    const std::int64_t need = need_on(*r, m);
    if (room[m] < need) {
      unfit_.insert(r->id);
      continue;
    }
    room[m] -= need;
    prefixes_on[m].insert(r->prefix.begin(), r->prefix.begin() + r->cached_keys);
    assigned_[m].insert(r->id);
    for (int p = 0; p < G; ++p) {
      if (p == m) continue;
      const std::int64_t b = need * (ctx.memory->block_bytes / L) * stage_layers(p, G, L);
      end = std::max(end, transfer_between(*ctx.links, *ctx.topology, members[p], members[m], b, now));
      bytes += b * static_cast<std::int64_t>(members[m].gpus.size());
    }
  }
  host_.log(Decision{now, DecisionKind::Restore, DecisionPhase::Gather, {{"instance", id_},
             {"requests", running.size()},
             {"bytes", bytes},
             {"duration_s", ns_to_seconds(end - now)},
             {"reason", "dropped layers restored; gathering each request's KV on one member"}}});
  step_ = Step::Gather;
  ctx.events->schedule(end, this);
}

void RestoreProcess::split(SimTime now) {
  Engine& g = pipeline();
  const std::vector<Request*> requests = host_.fusion_port(g).take_all();
  std::vector<int> slots;
  for (const Member& m : g.members()) slots.push_back(m.slot);
  const std::vector<Engine*> parts = host_.split(id_);
  std::size_t rr = 0;
  for (Request* r : requests) {
    std::size_t home = assigned_.size();
    for (std::size_t m = 0; m < assigned_.size(); ++m)
      if (assigned_[m].count(r->id)) home = m;
    if (home < assigned_.size()) {
      host_.fusion_port(*parts[home]).adopt_running(r);
      continue;
    }
    if (unfit_.count(r->id)) {
      ++r->preemptions;
      host_.log(Decision{now, DecisionKind::Preempt, DecisionPhase::None, {{"instance", id_}, {"request", r->id}, {"blocks", r->blocks},
                 {"reason", "restore: no member has room for its KV; recompute"}}});
    }
    host_.fusion_port(*parts[rr++ % parts.size()]).adopt_waiting(r);  // waiting ones, and the recomputed
  }
  host_.log(Decision{now, DecisionKind::Restore, DecisionPhase::Split, {{"instance", id_},
             {"instances", slots},
             {"duration_s", ns_to_seconds(now - started_)},
             {"reason", "back to data-parallel instances"}}});
  for (Engine* p : parts) p->resume(now);
  host_.done(this, {id_});
}

}  // namespace kunsim
