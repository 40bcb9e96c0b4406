#include "sim/serving/serving_cluster.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/serving/kv_exchange.hpp"
#include "sim/serving/migration.hpp"
#include "sim/serving/restore_process.hpp"
#include "sim/serving/stage_relay.hpp"

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
constexpr std::uint64_t kTick = 0;    // the policy's periodic control
constexpr std::uint64_t kReport = 1;  // engines report their load to the dispatcher
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

Instance* ServingCluster::instance(int id) const {
  auto it = engines_.find(id);
  return it == engines_.end() ? nullptr : it->second.get();
}

std::pair<Instance*, int> ServingCluster::slot(int s) const {
  return {instance(slot_engine_[s].first), slot_engine_[s].second};
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
  const std::vector<Instance*>& candidates = dispatchable_;
  const int pick = ctx_.policy->pick_engine(*this, *r, now);
  Instance* e = pick >= 0 && pick < static_cast<int>(candidates.size()) ? candidates[pick]
                                                                         : candidates[dispatcher_->pick(candidates, now)];
  e->enqueue(r, now);
}

void ServingCluster::abort(Request* r, SimTime now) {
  Instance* e = instance(r->instance);
  if (!e) throw std::logic_error("ServingCluster: request " + std::to_string(r->id) + " is in no engine");
  e->abort(r, now);
}

void ServingCluster::start_ticks(SimTime now, std::function<bool()> live) {
  live_ = std::move(live);
  if (ctx_.policy->tick_interval() > SimDuration{}) ctx_.events->schedule(now + ctx_.policy->tick_interval(), this, kTick);
  if (dispatcher_->report_interval() > SimDuration{}) ctx_.events->schedule(now, this, kReport);
}

void ServingCluster::handle_event(SimTime now, std::uint64_t arg) {
  if (arg == kReport) {
    dispatcher_->on_report(engine_list_, now);
    if (live_()) ctx_.events->schedule(now + dispatcher_->report_interval(), this, kReport);
    return;
  }
  ctx_.policy->on_tick(*this, *this, now);
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
    Instance* e = instance(id);
    if (!e || e->stages() != 1 || locked_.count(id) || e->swapped() > 0) return false;
  }
  auto pending = std::make_shared<std::size_t>(ids.size());
  for (int id : ids) {
    locked_.insert(id);
    instance(id)->pause(now, [this, ids, opt, pending](SimTime t) {
      if (--*pending == 0) do_fuse(ids, opt, t);
    });
  }
  return true;
}

// The requests of an engine joining a group, sorted out. Running ones whose KV stays where it
// is: stale (whole on member `home`) or, with `home` < 0, per-stage KV the group re-lays. With
// stale_kv=recompute their KV is dropped and they prefill again in the group.
struct ServingCluster::Joining {
  std::vector<Request*> running, waiting;
  std::int64_t stale_requests = 0, stale_blocks = 0, kept_blocks = 0, recomputed = 0;
  InstanceCounters absorbed;

  void take(Instance& part, int home, Member* m, StaleKvMode mode) {
    absorbed += part.counters();
    for (Request* r : part.take_all()) {
      const bool was_running = r->phase == Phase::Decode || r->phase == Phase::Prefill;
      if (!was_running || mode == StaleKvMode::Recompute) {
        if (was_running) ++recomputed;
        waiting.push_back(r);
        continue;
      }
      kept_blocks += r->blocks;
      if (home >= 0) {
        r->home = home;
        r->stale_blocks = r->blocks;
        m->stale_blocks += r->blocks;
        stale_blocks += r->blocks;
        ++stale_requests;
      }
      running.push_back(r);
    }
  }
};

Instance* ServingCluster::install_group(std::vector<Member> members, Joining& j) {
  const int g = static_cast<int>(members.size());
  auto group = std::make_unique<Instance>(next_group_id_++, std::move(members), ctx_, host_blocks_per_instance_ * g);
  group->absorb_counters(j.absorbed);
  group->set_state("pipeline");
  for (Request* r : j.running) group->adopt_running(r);
  for (Request* r : j.waiting) group->adopt_waiting(r);
  Instance* gp = group.get();
  install(std::move(group));
  return gp;
}

nlohmann::json ServingCluster::group_fields(const Instance& gp, const Joining& j, const FuseOptions& opt) {
  std::vector<int> slots, extra;
  for (const Member& m : gp.members()) {
    slots.push_back(m.slot);
    extra.push_back(static_cast<int>(m.extra_blocks));
  }
  return {{"instance", gp.id()},
          {"instances", slots},
          {"g", gp.stages()},
          {"freed_blocks", extra},
          {"kv_capacity", gp.kv().capacity()},
          {"stale_requests", j.stale_requests},
          {"stale_blocks", j.stale_blocks},
          {"recomputed", j.recomputed},
          {"stale_kv", stale_kv_mode_name(opt.stale_kv)}};
}

void ServingCluster::log_with_plan(Decision row, const FuseOptions& opt) {
  for (auto it = opt.plan.begin(); it != opt.plan.end(); ++it) row.fields[it.key()] = it.value();
  log(std::move(row));
}

bool ServingCluster::start_exchange(Instance& gp, const FuseOptions& opt, SimTime now) {
  if (gp.stale().empty()) return false;
  const bool blocking = opt.stale_kv == StaleKvMode::BlockingExchange;
  if (blocking) gp.set_blocked(true, now);
  locked_.insert(gp.id());  // no restore or growth while its exchange runs
  // A blocking exchange runs its rounds back to back; a live one is paced.
  const SimDuration interval = blocking ? SimDuration{} : opt.exchange_interval;
  auto exchange = std::make_unique<KvExchange>(host(), gp, opt.exchange_batch, interval, now);
  KvExchange* x = exchange.get();
  start(std::move(exchange));
  x->begin(now);
  return true;
}

void ServingCluster::do_fuse(const std::vector<int>& ids, const FuseOptions& opt, SimTime now) {
  const int g = static_cast<int>(ids.size());
  std::vector<Member> members;
  Joining j;
  for (int idx = 0; idx < g; ++idx) {
    Instance* part = uninstall(ids[idx]);
    locked_.erase(ids[idx]);
    Member m = part->members()[0];
    m.extra_blocks = freed_blocks(idx, g);
    m.stale_blocks = 0;
    j.take(*part, idx, &m, opt.stale_kv);
    members.push_back(m);
  }
  Instance* gp = install_group(std::move(members), j);
  log_with_plan(Decision{now, DecisionKind::Drop, DecisionPhase::None, group_fields(*gp, j, opt)}, opt);
  start_exchange(*gp, opt, now);
  gp->resume(now);
}

// ---- grow ----

bool ServingCluster::grow(int group_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now) {
  Instance* gp = instance(group_id);
  if (!gp || gp->stages() < 2 || locked_.count(group_id) || restoring_.count(group_id) || !gp->stale().empty() ||
      gp->swapped() > 0)
    return false;
  if (partners.empty() || partners.size() % gp->stages() != 0) return false;
  for (int id : partners) {
    Instance* e = instance(id);
    if (!e || e->stages() != 1 || locked_.count(id) || e->swapped() > 0) return false;
  }
  std::vector<int> ids{group_id};
  ids.insert(ids.end(), partners.begin(), partners.end());
  auto pending = std::make_shared<std::size_t>(ids.size());
  for (int id : ids) {
    locked_.insert(id);
    instance(id)->pause(now, [this, group_id, partners, opt, pending](SimTime t) {
      if (--*pending == 0) do_grow(group_id, partners, opt, t);
    });
  }
  return true;
}

void ServingCluster::do_grow(int group_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now) {
  Instance* old = uninstall(group_id);
  locked_.erase(group_id);
  const int g = old->stages(), k = 1 + static_cast<int>(partners.size()) / g, G = k * g;
  // Stage order: old stage r keeps the first part of its layers; its k-1 partners follow it.
  std::vector<Member> members;
  std::vector<Instance*> joining;
  for (int r = 0; r < g; ++r) {
    members.push_back(old->members()[r]);
    for (int p = 0; p < k - 1; ++p) {
      Instance* part = uninstall(partners[r * (k - 1) + p]);
      locked_.erase(part->id());
      joining.push_back(part);
      members.push_back(part->members()[0]);
    }
  }
  Joining j;
  for (int idx = 0; idx < G; ++idx) {
    members[idx].extra_blocks = freed_blocks(idx, G);
    members[idx].stale_blocks = 0;
  }
  j.take(*old, -1, nullptr, opt.stale_kv);  // per-stage KV: re-laid, never stale
  const std::int64_t relaid = j.kept_blocks;
  const std::int64_t relaid_requests = static_cast<std::int64_t>(j.running.size());
  for (int idx = 0, p = 0; idx < G; ++idx)
    if (idx % k != 0) j.take(*joining[p++], idx, &members[idx], opt.stale_kv);
  Instance* gp = install_group(std::move(members), j);
  std::vector<int> added;
  for (Instance* part : joining) added.push_back(part->members()[0].slot);
  nlohmann::json fields = group_fields(*gp, j, opt);
  fields["from_instance"] = group_id;
  fields["from_g"] = g;
  fields["added"] = added;
  fields["relaid_requests"] = relaid_requests;
  fields["relaid_blocks"] = relaid;
  log_with_plan(Decision{now, DecisionKind::Grow, DecisionPhase::Begin, std::move(fields)}, opt);
  if (relaid == 0) {
    start_exchange(*gp, opt, now);
    gp->resume(now);
    return;
  }
  // The group waits for its per-stage KV to reach the new stage boundaries, then exchanges the
  // new members' stale KV as after a drop.
  gp->set_blocked(true, now);
  locked_.insert(gp->id());
  auto relay = std::make_unique<StageRelay>(
      host(), *gp, g, relaid,
      [this, gp, opt](SimTime t) {
        const bool exchanging = start_exchange(*gp, opt, t);
        if (!exchanging || opt.stale_kv != StaleKvMode::BlockingExchange) gp->set_blocked(false, t);
        return exchanging;
      },
      now);
  StageRelay* sr = relay.get();
  start(std::move(relay));
  sr->begin(now);
  gp->resume(now);
}

// ---- restore ----

bool ServingCluster::restore(int id, SimTime now, const std::string& reason) {
  Instance* g = instance(id);
  if (!g || g->stages() < 2 || locked_.count(id)) return false;
  locked_.insert(id);
  restoring_.insert(id);
  rebuild_lists();
  std::int64_t base = 0;
  for (const Member& m : g->members()) base += m.base_blocks;
  g->set_admission_cap(base);
  g->set_state("vacating");
  log(Decision{now, DecisionKind::Restore, DecisionPhase::Begin, {{"instance", id}, {"kv_used", g->kv().used()},
       {"kv_capacity", g->kv().capacity()}, {"base_blocks", base}, {"reason", reason}}});
  // The restore waits for the group to vacate, checking at the policy's interval.
  const SimDuration poll = ctx_.policy->tick_interval() > SimDuration{} ? ctx_.policy->tick_interval() : kNsPerSecond / 10;
  auto process = std::make_unique<RestoreProcess>(host(), id, poll, now);
  RestoreProcess* p = process.get();
  start(std::move(process));
  p->begin(now);
  return true;
}

// ---- migrate (Llumnix) ----

bool ServingCluster::migrate(int src, RequestId id, int dst, SimTime now) {
  Instance* s = instance(src);
  Instance* d = instance(dst);
  if (!s || !d || src == dst || s->stages() != 1 || d->stages() != 1 || locked_.count(src) || locked_.count(dst))
    return false;
  auto m = Migration::start(host(), *s, id, *d, now);
  if (!m) return false;
  locked_.insert(src);
  locked_.insert(dst);
  start(std::move(m));
  return true;
}

// ---- processes ----

void ServingCluster::start(std::unique_ptr<EventHandler> process) {
  finished_.clear();  // no finished process is inside its own event now
  processes_.push_back(std::move(process));
}

void ServingCluster::done(EventHandler* process, const std::vector<int>& engines) {
  bool relist = false;
  for (int id : engines) {
    locked_.erase(id);
    relist |= restoring_.erase(id) > 0;
  }
  if (relist) rebuild_lists();
  auto it = std::find_if(processes_.begin(), processes_.end(), [&](const auto& p) { return p.get() == process; });
  if (it == processes_.end()) throw std::logic_error("ServingCluster: an unknown process ended");
  finished_.push_back(std::move(*it));  // deleted later: it is inside its own event now
  processes_.erase(it);
}

std::vector<Instance*> ServingCluster::split(int group_id) {
  Instance* g = uninstall(group_id);
  retired_ += g->counters();
  std::vector<Instance*> parts;
  for (const Member& m : g->members()) parts.push_back(make_normal(m.slot));
  return parts;
}

}  // namespace kunsim
