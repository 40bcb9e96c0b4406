// ServingCluster, continued: KunServe's pipeline groups being formed. fuse (the drop: g normal
// instances into one pipeline) and grow (a group of g into one of k*g), with what they share:
// how a joining engine's requests are sorted into stale, re-laid and recomputed ones, how the
// group is installed and logged, and how the exchange of its stale KV starts. Restore,
// migration and the process bookkeeping are serving_cluster.cpp.
#include <algorithm>
#include <memory>

#include "sim/serving/fleet/serving_cluster.hpp"
#include "sim/serving/reconfig/kunserve/drop_work.hpp"
#include "sim/serving/reconfig/kunserve/kv_exchange.hpp"
#include "sim/serving/reconfig/kunserve/stage_relay.hpp"

namespace kunsim {

// ---- fuse (KunServe drop) ----

bool ServingCluster::joinable(int id) const {
  const Engine* e = instance(id);
  return e && e->stages() == 1 && !locked_.count(id) && e->swapped() == 0;
}

namespace {
// KunServe fuses instances of one group only: a pipeline's stages share GPU kind, TP and knobs.
bool one_group(const ServingCluster& c, const std::vector<int>& ids) {
  const int g = c.instance(ids[0])->context().group;
  return std::all_of(ids.begin(), ids.end(), [&](int id) { return c.instance(id)->context().group == g; });
}
}  // namespace

void ServingCluster::lock_and_pause(const std::vector<int>& ids, SimTime now, std::function<void(SimTime)> then) {
  auto pending = std::make_shared<std::size_t>(ids.size());
  auto done = std::make_shared<std::function<void(SimTime)>>(std::move(then));
  for (int id : ids) {
    locked_.insert(id);
    instance(id)->pause(now, [pending, done](SimTime t) {
      if (--*pending == 0) (*done)(t);
    });
  }
}

bool ServingCluster::fuse(const std::vector<int>& ids, const FuseOptions& opt, SimTime now) {
  if (ids.size() < 2 || !std::all_of(ids.begin(), ids.end(), [this](int id) { return joinable(id); }) ||
      !one_group(*this, ids))
    return false;
  lock_and_pause(ids, now, [this, ids, opt](SimTime t) { do_fuse(ids, opt, t); });
  return true;
}

// The requests of an engine joining a group, sorted out. Running ones whose KV stays where it
// is: stale (whole on member `home`; stalled under stall-exchange) or, with `home` < 0,
// per-stage KV the group re-lays. With stale_kv=recompute their KV is dropped and they prefill
// again in the group. Every running one with a token out has its next gap reported as the
// drop's stall for it. Each joins virtual engine `ve` of the group (the reference merges each
// member's scheduler, queues and all, as the group's virtual engine of that member); ve < 0
// keeps the one it had in a group of g that grows k-fold (virtual engine v becomes k*v, as
// old stage v becomes stage k*v).
struct ServingCluster::Joining {
  std::vector<Request*> running, waiting;
  std::int64_t stale_requests = 0, stale_blocks = 0, kept_blocks = 0, recomputed = 0;

  void take(Engine& part, FusionPort& port, int home, Member* m, StaleKvMode mode, int ve, int k = 1) {
    // Cached prefixes its running requests hold: one copy each, kept like their own KV (stale
    // on this home, or re-laid per stage); prefixes nobody holds are not carried over.
    if (mode != StaleKvMode::Recompute) {
      const std::int64_t shared = part.kv().prefixes().in_use();
      kept_blocks += shared;
      if (home >= 0) {
        m->stale_blocks += shared;
        stale_blocks += shared;
      }
    }
    for (Request* r : port.take_all()) {
      r->ve = ve >= 0 ? ve : r->ve * k;
      const bool was_running = r->phase == Phase::Decode || r->phase == Phase::Prefill;
      r->gap_spans_drop = was_running && r->generated > 0;
      if (!was_running || mode == StaleKvMode::Recompute) {
        if (was_running) ++recomputed;
        waiting.push_back(r);
        continue;
      }
      kept_blocks += r->blocks;
      if (home >= 0) {
        r->home = home;
        r->stalled = mode == StaleKvMode::StallExchange;
        r->stale_blocks = r->blocks;
        m->stale_blocks += r->blocks;
        stale_blocks += r->blocks;
        ++stale_requests;
      }
      running.push_back(r);
    }
  }
};

Engine* ServingCluster::install_pipeline(std::vector<Member> members, Joining& j, const FuseOptions& opt) {
  const int g = static_cast<int>(members.size());
  const InstanceGroup& kind = groups_[slot_group_[members[0].slot]];
  auto group = std::make_unique<Engine>(next_pipeline_id_++, std::move(members), kind.ctx, kind.host_blocks_per_instance * g);
  FusionPort& fusion = fusion_port(*group);
  fusion.set_state("pipeline");
  pipeline_port(*group).set_micro_batching(opt.micro_batching);
  for (Request* r : j.running) fusion.adopt_running(r);
  for (Request* r : j.waiting) fusion.adopt_waiting(r);
  Engine* gp = group.get();
  install(std::move(group));
  return gp;
}

nlohmann::json ServingCluster::pipeline_fields(const Engine& gp, const Joining& j, const FuseOptions& opt) {
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
          {"stale_kv", stale_kv_mode_name(opt.stale_kv)},
          {"exchange_path", exchange_path_name(opt.exchange.path)},
          {"micro_batches", micro_batching_name(opt.micro_batching)}};
}

void ServingCluster::log_with_plan(Decision row, const FuseOptions& opt) {
  for (auto it = opt.plan.begin(); it != opt.plan.end(); ++it) row.fields[it.key()] = it.value();
  log(std::move(row));
}

bool ServingCluster::start_exchange(Engine& gp, const FuseOptions& opt, SimTime now) {
  if (pipeline_port(gp).stale().empty()) return false;
  if (opt.stale_kv != StaleKvMode::BlockingExchange) {  // live: a part of the group's steps
    pipeline_port(gp).exchange_in_steps(opt.exchange, now);
    return true;
  }
  pipeline_port(gp).set_blocked(true, now);
  locked_.insert(gp.id());  // no restore or growth while its exchange runs
  auto exchange = std::make_unique<KvExchange>(host(), gp, opt.exchange, now);
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
    Engine* part = uninstall(ids[idx]);
    locked_.erase(ids[idx]);
    Member m = part->members()[0];
    m.extra_blocks = group_freed_blocks(part->context().group, idx, g);
    m.stale_blocks = 0;
    j.take(*part, fusion_port(*part), idx, &m, opt.stale_kv, idx);
    members.push_back(m);
  }
  Engine* gp = install_pipeline(std::move(members), j, opt);
  log_with_plan(Decision{now, DecisionKind::Drop, DecisionPhase::None, pipeline_fields(*gp, j, opt)}, opt);
  if (opt.drop_latency.ns() > 0) {  // the drop's own work first, nothing served meanwhile
    locked_.insert(gp->id());
    auto work = std::make_unique<DropWork>(host(), *gp, opt.drop_latency,
                                           [this, gp, opt](SimTime t) { return exchange_or_release(*gp, opt, t); });
    DropWork* w = work.get();
    start(std::move(work));
    w->begin(now);
    gp->resume(now);
    return;
  }
  start_exchange(*gp, opt, now);
  gp->resume(now);
}

bool ServingCluster::exchange_or_release(Engine& gp, const FuseOptions& opt, SimTime now) {
  // Only a blocking exchange is a process that takes the group over; a live one is a part of
  // its steps.
  const bool blocking = start_exchange(gp, opt, now) && opt.stale_kv == StaleKvMode::BlockingExchange;
  if (!blocking) pipeline_port(gp).set_blocked(false, now);
  return blocking;
}

// ---- grow ----

bool ServingCluster::grow(int pipeline_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now) {
  Engine* gp = instance(pipeline_id);
  if (!gp || gp->stages() < 2 || locked_.count(pipeline_id) || restoring_.count(pipeline_id) || !pipeline_port(*gp).stale().empty() ||
      gp->swapped() > 0)
    return false;
  if (partners.empty() || partners.size() % gp->stages() != 0 ||
      !std::all_of(partners.begin(), partners.end(), [this](int id) { return joinable(id); }))
    return false;
  std::vector<int> ids{pipeline_id};
  ids.insert(ids.end(), partners.begin(), partners.end());
  if (!one_group(*this, ids) || !grown_fits(*gp, partners, now)) return false;
  lock_and_pause(ids, now, [this, pipeline_id, partners, opt](SimTime t) { do_grow(pipeline_id, partners, opt, t); });
  return true;
}

namespace {

// A grown group's stage order, for G = k x g stages from a group of g and (k-1) x g partners:
// old stage r keeps the first part of its layers, and its k-1 partners follow it. Each stage is
// the old group's stage `old_stage` (partner < 0) or the partner instance `partner`.
struct GrownStage {
  int old_stage = 0;
  int partner = -1;
};
std::vector<GrownStage> grown_stages(int g, const std::vector<int>& partners) {
  const int k = 1 + static_cast<int>(partners.size()) / g;
  std::vector<GrownStage> out;
  for (int r = 0; r < g; ++r) {
    out.push_back({r, -1});
    for (int p = 0; p < k - 1; ++p) out.push_back({r, partners[static_cast<std::size_t>(r * (k - 1) + p)]});
  }
  return out;
}

}  // namespace

// The grown group adopts everything: the old group's KV re-laid evenly over all G stages, beside
// each partner's KV, stale on its own member. A partner nearly full of its own KV leaves less
// room on its stage than the even share needs, however much the others have. Usage is taken
// with a block per running request to spare: the most the steps until every engine pauses add.
bool ServingCluster::grown_fits(const Engine& gp, const std::vector<int>& partners, SimTime now) const {
  const std::vector<GrownStage> stages = grown_stages(gp.stages(), partners);
  const int G = static_cast<int>(stages.size());
  std::vector<Member> members;
  std::int64_t need = gp.kv_used_at(now) + gp.running();
  for (int idx = 0; idx < G; ++idx) {
    const GrownStage& st = stages[static_cast<std::size_t>(idx)];
    if (st.partner < 0) {
      members.push_back(gp.members()[static_cast<std::size_t>(st.old_stage)]);
      members.back().stale_blocks = 0;
    } else {
      const Engine& part = *instance(st.partner);
      members.push_back(part.members()[0]);
      members.back().stale_blocks = part.kv_used_at(now) + part.running();
      need += members.back().stale_blocks;
    }
    members.back().extra_blocks = group_freed_blocks(gp.context().group, idx, G);
  }
  return pool_blocks(members) >= need;
}

void ServingCluster::do_grow(int pipeline_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now) {
  Engine* old = uninstall(pipeline_id);
  locked_.erase(pipeline_id);
  const int g = old->stages();
  const std::vector<GrownStage> stages = grown_stages(g, partners);
  const int G = static_cast<int>(stages.size()), k = G / g;
  std::vector<Member> members;
  std::vector<Engine*> joining(stages.size(), nullptr);  // by stage: the partner joining there
  for (int idx = 0; idx < G; ++idx) {
    const GrownStage& st = stages[static_cast<std::size_t>(idx)];
    if (st.partner < 0) {
      members.push_back(old->members()[static_cast<std::size_t>(st.old_stage)]);
    } else {
      Engine* part = uninstall(st.partner);
      locked_.erase(part->id());
      joining[static_cast<std::size_t>(idx)] = part;
      members.push_back(part->members()[0]);
    }
    members.back().extra_blocks = group_freed_blocks(old->context().group, idx, G);
    members.back().stale_blocks = 0;
  }
  Joining j;
  j.take(*old, fusion_port(*old), -1, nullptr, opt.stale_kv, -1, k);  // per-stage KV: re-laid, never stale
  const std::int64_t relaid = j.kept_blocks;
  const std::int64_t relaid_requests = static_cast<std::int64_t>(j.running.size());
  for (int idx = 0; idx < G; ++idx)
    if (Engine* part = joining[static_cast<std::size_t>(idx)])
      j.take(*part, fusion_port(*part), idx, &members[static_cast<std::size_t>(idx)], opt.stale_kv, idx);
  Engine* gp = install_pipeline(std::move(members), j, opt);
  std::vector<int> added;
  for (Engine* part : joining)
    if (part) added.push_back(part->members()[0].slot);
  nlohmann::json fields = pipeline_fields(*gp, j, opt);
  fields["from_instance"] = pipeline_id;
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
  pipeline_port(*gp).set_blocked(true, now);
  locked_.insert(gp->id());
  auto relay = std::make_unique<StageRelay>(
      host(), *gp, g, relaid, [this, gp, opt](SimTime t) { return exchange_or_release(*gp, opt, t); }, now);
  StageRelay* sr = relay.get();
  start(std::move(relay));
  sr->begin(now);
  gp->resume(now);
}

}  // namespace kunsim
