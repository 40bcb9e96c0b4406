#include "sim/serving/serving_cluster.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/serving/kv_exchange.hpp"

namespace kunsim {

const char* stale_kv_mode_name(StaleKvMode m) {
  switch (m) {
    case StaleKvMode::LiveExchange: return "exchange";
    case StaleKvMode::BlockingExchange: return "blocking-exchange";
    case StaleKvMode::Recompute: return "recompute";
  }
  return "?";
}

namespace {
constexpr std::uint64_t kTick = 0;
}  // namespace

ServingCluster::ServingCluster(const ServingContext& ctx, int instances, std::int64_t blocks_per_instance,
                               std::int64_t host_blocks_per_instance, std::unique_ptr<Dispatcher> dispatcher)
    : ctx_(ctx),
      blocks_per_instance_(blocks_per_instance),
      host_blocks_per_instance_(host_blocks_per_instance),
      dispatcher_(std::move(dispatcher)),
      slot_engine_(instances),
      next_group_id_(instances) {
  for (int i = 0; i < instances; ++i) make_normal(i);
}

ServingCluster::~ServingCluster() = default;

Instance* ServingCluster::make_normal(int slot) {
  Member m;
  m.slot = slot;
  for (int g = 0; g < ctx_.engine->tp; ++g) m.gpus.push_back(slot * ctx_.engine->tp + g);
  m.base_blocks = blocks_per_instance_;
  auto inst = std::make_unique<Instance>(slot, std::vector<Member>{m}, ctx_, host_blocks_per_instance_);
  Instance* p = inst.get();
  install(std::move(inst));
  return p;
}

void ServingCluster::install(std::unique_ptr<Instance> e) {
  const int id = e->id();
  for (std::size_t m = 0; m < e->members().size(); ++m) slot_engine_[e->members()[m].slot] = {id, static_cast<int>(m)};
  engines_[id] = std::move(e);
  rebuild_lists();
}

Instance* ServingCluster::uninstall(int id) {
  auto it = engines_.find(id);
  Instance* e = it->second.get();
  e->retire();
  retired_engines_.push_back(std::move(it->second));
  engines_.erase(it);
  rebuild_lists();
  return e;
}

void ServingCluster::rebuild_lists() {
  engine_list_.clear();
  dispatchable_.clear();
  for (auto& [id, e] : engines_) {
    engine_list_.push_back(e.get());
    if (!restoring_.count(id)) dispatchable_.push_back(e.get());
  }
  if (dispatchable_.empty()) dispatchable_ = engine_list_;  // every engine restoring: queue anyway
}

Instance* ServingCluster::engine(int id) const {
  auto it = engines_.find(id);
  return it == engines_.end() ? nullptr : it->second.get();
}

std::pair<Instance*, int> ServingCluster::slot(int s) const {
  return {engine(slot_engine_[s].first), slot_engine_[s].second};
}


std::string ServingCluster::never_fits(const Request& r) const {
  const EngineParams& e = *ctx_.engine;
  const std::int64_t len = std::int64_t{r.prompt} + r.output;
  if (len > e.max_model_len)
    return "prompt + output = " + std::to_string(len) + " tokens exceeds max_model_len " + std::to_string(e.max_model_len);
  const std::int64_t need = Request::blocks_for(r.peak_kv_tokens(), e.block_size);
  const std::int64_t watermark = e.watermark_blocks(blocks_per_instance_);
  if (need + watermark > blocks_per_instance_)
    return "needs " + std::to_string(need) + " KV blocks, an instance holds " + std::to_string(blocks_per_instance_) +
           " (" + std::to_string(watermark) + " kept free)";
  return {};
}

void ServingCluster::dispatch(Request* r, SimTime now) {
  const std::vector<Instance*>& candidates = dispatchable();
  const int pick = ctx_.policy->pick_engine(*this, *r, now);
  Instance* e = pick >= 0 && pick < static_cast<int>(candidates.size()) ? candidates[pick]
                                                                         : candidates[dispatcher_->pick(candidates, now)];
  e->enqueue(r, now);
}

void ServingCluster::abort(Request* r, SimTime now) {
  Instance* e = engine(r->instance);
  if (!e) throw std::logic_error("ServingCluster: request " + std::to_string(r->id) + " is in no engine");
  e->abort(r, now);
}

void ServingCluster::start_ticks(SimTime now, std::function<bool()> live) {
  live_ = std::move(live);
  if (ctx_.policy->tick_interval() > 0) ctx_.events->schedule(now + ctx_.policy->tick_interval(), this, kTick);
}

void ServingCluster::handle_event(SimTime now, std::uint64_t) {
  ctx_.policy->on_tick(*this, now);
  if (live_()) ctx_.events->schedule(now + ctx_.policy->tick_interval(), this, kTick);
}

std::int64_t ServingCluster::freed_blocks(int stage, int g) const {
  const int L = ctx_.model->layers;
  const std::int64_t dropped_layers = L - stage_layers(stage, g, L);
  const std::int64_t bytes = dropped_layers * ctx_.model->layer_weight_bytes() / ctx_.engine->tp;
  return bytes / ctx_.memory->block_bytes;
}

std::vector<Request*> ServingCluster::requests_in_flight() const {
  std::vector<Request*> out;
  for (Instance* e : engine_list_) {
    auto v = e->requests_in_flight();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

InstanceCounters ServingCluster::total_counters() const {
  InstanceCounters t = retired_;
  for (Instance* e : engine_list_) t += e->counters();
  return t;
}

// ---- fuse (KunServe drop) ----

bool ServingCluster::fuse(const std::vector<int>& ids, const FuseOptions& opt, SimTime now) {
  if (ids.size() < 2) return false;
  for (int id : ids) {
    Instance* e = engine(id);
    if (!e || e->stages() != 1 || locked_.count(id) || e->swapped() > 0) return false;
  }
  auto pending = std::make_shared<std::size_t>(ids.size());
  for (int id : ids) {
    locked_.insert(id);
    engine(id)->pause(now, [this, ids, opt, pending](SimTime t) {
      if (--*pending == 0) do_fuse(ids, opt, t);
    });
  }
  return true;
}

void ServingCluster::do_fuse(const std::vector<int>& ids, const FuseOptions& opt, SimTime now) {
  const int g = static_cast<int>(ids.size());
  std::vector<Member> members;
  std::vector<Request*> running, waiting;
  std::int64_t stale_blocks = 0, recomputed = 0;
  InstanceCounters absorbed;
  for (int idx = 0; idx < g; ++idx) {
    Instance* part = uninstall(ids[idx]);
    locked_.erase(ids[idx]);
    absorbed += part->counters();
    Member m = part->members()[0];
    m.extra_blocks = freed_blocks(idx, g);
    m.stale_blocks = 0;
    for (Request* r : part->take_all()) {
      const bool was_running = r->phase == Phase::Decode || r->phase == Phase::Prefill;
      if (was_running && opt.stale_kv != StaleKvMode::Recompute) {
        r->home = idx;
        r->stale_blocks = r->blocks;
        m.stale_blocks += r->blocks;
        stale_blocks += r->blocks;
        running.push_back(r);
      } else {
        if (was_running) ++recomputed;  // its KV is dropped: it prefills again in the pipeline
        waiting.push_back(r);
      }
    }
    members.push_back(m);
  }
  auto group = std::make_unique<Instance>(next_group_id_++, members, ctx_, host_blocks_per_instance_ * g);
  group->absorb_counters(absorbed);
  group->set_state("pipeline");
  for (Request* r : running) group->adopt_running(r);
  for (Request* r : waiting) group->adopt_waiting(r);
  Instance* gp = group.get();
  install(std::move(group));

  std::vector<int> slots, extra;
  for (const Member& m : members) {
    slots.push_back(m.slot);
    extra.push_back(static_cast<int>(m.extra_blocks));
  }
  nlohmann::json row = {{"t_ns", now},
                        {"kind", "drop"},
                        {"instance", gp->id()},
                        {"instances", slots},
                        {"g", g},
                        {"freed_blocks", extra},
                        {"kv_capacity", gp->kv().capacity()},
                        {"stale_requests", running.size()},
                        {"stale_blocks", stale_blocks},
                        {"recomputed", recomputed},
                        {"stale_kv", stale_kv_mode_name(opt.stale_kv)}};
  for (auto it = opt.plan.begin(); it != opt.plan.end(); ++it) row[it.key()] = it.value();
  log(row);
  if (!running.empty()) {
    const bool blocking = opt.stale_kv == StaleKvMode::BlockingExchange;
    if (blocking) gp->set_blocked(true, now);
    locked_.insert(gp->id());  // no restore while its exchange runs
    exchanges_[gp->id()] = std::make_unique<KvExchange>(*this, *gp, opt.exchange_batch, now);
  }
  gp->resume(now);
}

void ServingCluster::exchange_done(int group_id, SimTime now) {
  locked_.erase(group_id);
  if (Instance* g = engine(group_id)) g->set_blocked(false, now);
}

// ---- restore ----

// Vacate -> pull weights (serving goes on) -> pause, gather KV per member -> split.
class RestoreProcess final : public EventHandler {
 public:
  RestoreProcess(ServingCluster& c, int group_id, SimTime now) : c_(c), id_(group_id), started_(now) { poll(now); }
  void handle_event(SimTime now, std::uint64_t) override {
    switch (phase_) {
      case Step::Vacate: poll(now); break;
      case Step::Pull: pulled(now); break;
      case Step::Gather: split(now); break;
    }
  }

 private:
  enum class Step { Vacate, Pull, Gather };
  Instance& group() { return *c_.engine(id_); }
  std::int64_t base() {
    std::int64_t b = 0;
    for (const Member& m : group().members()) b += m.base_blocks;
    return b;
  }
  // Waits until what is used fits the members as normal instances (the extra blocks are
  // vacated) and no stale KV is left, polling at the controller's 0.1 s.
  void poll(SimTime now) {
    Instance& g = group();
    if (g.kv_used_at(now) > base() || !g.stale().empty()) {
      c_.ctx_.events->schedule(now + kNsPerSecond / 10, this);
      return;
    }
    // Pull: member r fetches every layer it dropped from the stage that kept it.
    const ServingContext& ctx = c_.ctx_;
    const int G = g.stages(), L = ctx.model->layers;
    const std::int64_t layer_bytes = ctx.model->layer_weight_bytes() / ctx.engine->tp;
    SimTime end = now;
    std::int64_t bytes = 0;
    for (int r = 0; r < G; ++r)
      for (int p = 0; p < G; ++p) {
        if (p == r) continue;
        const std::int64_t b = stage_layers(p, G, L) * layer_bytes;
        end = std::max(end, transfer_between(*ctx.links, *ctx.topology, g.members()[p], g.members()[r], b, now));
        bytes += b * static_cast<std::int64_t>(g.members()[r].gpus.size());
      }
    g.set_state("restoring");
    c_.log({{"t_ns", now},
            {"kind", "restore"},
            {"phase", "pull"},
            {"instance", id_},
            {"bytes", bytes},
            {"duration_s", ns_to_seconds(end - now)},
            {"reason", "extra KV blocks vacated; pulling dropped layers from their peers"}});
    phase_ = Step::Pull;
    c_.ctx_.events->schedule(end, this);
  }
  void pulled(SimTime now) {
    group().pause(now, [this](SimTime t) { gather(t); });
  }
  // The group stops; each request is given to one member and its per-stage KV gathered there.
  // The requests stay in the paused group until the split, so none is ever outside an engine.
  void gather(SimTime now) {
    Instance& g = group();
    const ServingContext& ctx = c_.ctx_;
    const int G = g.stages(), L = ctx.model->layers;
    const std::vector<Member> members = g.members();
    assigned_.assign(G, {});
    unfit_.clear();
    std::vector<std::int64_t> room(G);
    for (int m = 0; m < G; ++m) room[m] = members[m].base_blocks - ctx.engine->block_size;  // growth margin
    std::vector<Request*> running;
    for (Request* r : g.requests_in_flight())  // synced, unchanged
      if (r->phase == Phase::Decode || r->phase == Phase::Prefill) running.push_back(r);
    std::stable_sort(running.begin(), running.end(), [](const Request* a, const Request* b) { return a->blocks > b->blocks; });
    SimTime end = now;
    std::int64_t bytes = 0;
    for (Request* r : running) {
      const auto m = static_cast<int>(std::max_element(room.begin(), room.end()) - room.begin());
      if (room[m] < r->blocks) {
        unfit_.insert(r->id);
        continue;
      }
      room[m] -= r->blocks;
      assigned_[m].insert(r->id);
      for (int p = 0; p < G; ++p) {
        if (p == m) continue;
        const std::int64_t b = r->blocks * (ctx.memory->block_bytes / L) * stage_layers(p, G, L);
        end = std::max(end, transfer_between(*ctx.links, *ctx.topology, members[p], members[m], b, now));
        bytes += b * static_cast<std::int64_t>(members[m].gpus.size());
      }
    }
    c_.log({{"t_ns", now},
            {"kind", "restore"},
            {"phase", "gather"},
            {"instance", id_},
            {"requests", running.size()},
            {"bytes", bytes},
            {"duration_s", ns_to_seconds(end - now)},
            {"reason", "dropped layers restored; gathering each request's KV on one member"}});
    phase_ = Step::Gather;
    c_.ctx_.events->schedule(end, this);
  }
  void split(SimTime now) {
    Instance* g = c_.uninstall(id_);
    c_.locked_.erase(id_);
    c_.restoring_.erase(id_);
    c_.retired_ += g->counters();
    const std::vector<Request*> requests = g->take_all();
    std::vector<Instance*> parts;
    std::vector<int> slots;
    for (const Member& m : g->members()) {
      parts.push_back(c_.make_normal(m.slot));
      slots.push_back(m.slot);
    }
    std::size_t rr = 0;
    for (Request* r : requests) {
      std::size_t home = assigned_.size();
      for (std::size_t m = 0; m < assigned_.size(); ++m)
        if (assigned_[m].count(r->id)) home = m;
      if (home < assigned_.size()) {
        parts[home]->adopt_running(r);
        continue;
      }
      if (unfit_.count(r->id)) {
        ++r->preemptions;
        c_.log({{"t_ns", now}, {"kind", "preempt"}, {"instance", id_}, {"request", r->id}, {"blocks", r->blocks},
                {"reason", "restore: no member has room for its KV; recompute"}});
      }
      parts[rr++ % parts.size()]->adopt_waiting(r);  // waiting ones, and the recomputed
    }
    c_.log({{"t_ns", now},
            {"kind", "restore"},
            {"phase", "split"},
            {"instance", id_},
            {"instances", slots},
            {"duration_s", ns_to_seconds(now - started_)},
            {"reason", "back to data-parallel instances"}});
    for (Instance* p : parts) p->resume(now);
  }

  ServingCluster& c_;
  int id_;
  SimTime started_;
  Step phase_ = Step::Vacate;
  std::vector<std::set<RequestId>> assigned_;  // per member, the running requests it takes
  std::set<RequestId> unfit_;                 // running requests no member has room for
};

bool ServingCluster::restore(int id, SimTime now, const std::string& reason) {
  Instance* g = engine(id);
  if (!g || g->stages() < 2 || locked_.count(id)) return false;
  locked_.insert(id);
  restoring_.insert(id);
  rebuild_lists();
  std::int64_t base = 0;
  for (const Member& m : g->members()) base += m.base_blocks;
  g->set_admission_cap(base);
  g->set_state("vacating");
  log({{"t_ns", now}, {"kind", "restore"}, {"phase", "begin"}, {"instance", id}, {"kv_used", g->kv().used()},
       {"kv_capacity", g->kv().capacity()}, {"base_blocks", base}, {"reason", reason}});
  processes_.push_back(std::make_unique<RestoreProcess>(*this, id, now));
  return true;
}

// ---- migrate (Llumnix) ----

struct ServingCluster::Migration final : EventHandler {
  ServingCluster* c;
  int src, dst;
  RequestId id;
  std::int64_t reserved = 0, first_blocks = 0;
  SimTime started = 0;
  void handle_event(SimTime now, std::uint64_t) override {
    // Stage 1 (the bulk of the KV) is copied; pause both ends at a step boundary for the rest.
    auto pending = std::make_shared<int>(2);
    auto both = [this, pending](SimTime t) {
      if (--*pending == 0) finish(t);
    };
    c->engine(src)->pause(now, both);
    c->engine(dst)->pause(now, both);
  }
  void finish(SimTime now) {
    Instance& s = *c->engine(src);
    Instance& d = *c->engine(dst);
    d.unreserve_blocks(reserved);
    Request* r = s.find_running(id);
    std::string outcome = "aborted: the request finished or was preempted meanwhile";
    if (r && r->phase == Phase::Decode && !r->stale()) {
      s.release_for_migration(r);  // syncs its blocks
      if (d.kv().free() >= r->blocks) {
        // The last stage: blocks written since stage 1 began; the request moves after it.
        const std::int64_t delta = std::max<std::int64_t>(0, r->blocks - first_blocks);
        const ServingContext& ctx = c->ctx_;
        transfer_between(*ctx.links, *ctx.topology, s.members()[0], d.members()[0], delta * ctx.memory->block_bytes, now);
        d.adopt_running(r);
        outcome = "done";
      } else {
        s.adopt_running(r);
        outcome = "aborted: destination filled up";
      }
    }
    c->log({{"t_ns", now}, {"kind", "migrate"}, {"phase", "end"}, {"request", id}, {"from", src}, {"to", dst},
            {"duration_s", ns_to_seconds(now - started)}, {"reason", outcome}});
    c->locked_.erase(src);
    c->locked_.erase(dst);
    s.resume(now);
    d.resume(now);
  }
};

bool ServingCluster::migrate(int src, RequestId id, int dst, SimTime now) {
  Instance* s = engine(src);
  Instance* d = engine(dst);
  if (!s || !d || src == dst || s->stages() != 1 || d->stages() != 1 || locked_.count(src) || locked_.count(dst))
    return false;
  Request* r = s->find_running(id);
  if (!r || r->phase != Phase::Decode) return false;
  s->sync(r);
  const std::int64_t reserve = r->blocks + r->blocks / 8 + 2;
  if (!d->reserve_blocks(reserve)) return false;
  auto m = std::make_unique<Migration>();
  m->c = this;
  m->src = src;
  m->dst = dst;
  m->id = id;
  m->reserved = reserve;
  m->first_blocks = r->blocks;
  m->started = now;
  const SimTime end = transfer_between(*ctx_.links, *ctx_.topology, s->members()[0], d->members()[0],
                                       r->blocks * ctx_.memory->block_bytes, now);
  locked_.insert(src);
  locked_.insert(dst);
  log({{"t_ns", now}, {"kind", "migrate"}, {"phase", "begin"}, {"request", id}, {"from", src}, {"to", dst},
       {"blocks", r->blocks}, {"reason", "stage 1: copying KV while it decodes"}});
  ctx_.events->schedule(end, m.get());
  processes_.push_back(std::move(m));
  return true;
}

}  // namespace kunsim
