#include "sim/serving/fleet/serving_cluster.hpp"

#include <algorithm>
#include <stdexcept>

#include "sim/serving/reconfig/migration.hpp"
#include "sim/serving/reconfig/kunserve/restore_process.hpp"

namespace kunsim {

const char* stale_kv_mode_name(StaleKvMode m) {
  switch (m) {
    case StaleKvMode::StallExchange:
      return "stall-exchange";
    case StaleKvMode::RemoteAttention:
      return "remote-attention";
    case StaleKvMode::BlockingExchange: return "blocking-exchange";
    case StaleKvMode::Recompute: return "recompute";
  }
  return "?";
}

namespace {
constexpr std::uint64_t kTick = 0;    // the policy's periodic control
constexpr std::uint64_t kReport = 1;  // engines report their load to the dispatcher
}  // namespace

ServingCluster::ServingCluster(const ServingContext& ctx, std::vector<InstanceGroup> groups,
                               std::unique_ptr<Dispatcher> dispatcher, bool layerwise)
    : ctx_(ctx), groups_(std::move(groups)), dispatcher_(std::move(dispatcher)) {
  ctx_.prefix_directory = &prefix_directory_;
  ctx_.loads = this;
  bool disaggregated = false;
  for (const InstanceGroup& g : groups_) disaggregated |= g.role != InstanceRole::Mixed;
  if (disaggregated) handoffs_ = std::make_unique<KvHandoffs>(host(), layerwise);
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    InstanceGroup& g = groups_[i];
    g.ctx.prefix_directory = &prefix_directory_;
    g.ctx.loads = this;
    g.ctx.group = static_cast<int>(i);
    g.ctx.hands_off = g.role == InstanceRole::Prefill;
    g.ctx.handoffs = g.role == InstanceRole::Mixed ? nullptr : handoffs_.get();
    group_first_slot_.push_back(static_cast<int>(slot_group_.size()));
    for (std::size_t k = 0; k < g.gpus.size(); ++k) slot_group_.push_back(static_cast<int>(i));
    const std::int64_t room = g.blocks_per_instance - g.ctx.engine->watermark_blocks(g.blocks_per_instance);
    if (g.role != InstanceRole::Decode && !g.gpus.empty() && (min_taker_room_ < 0 || room < min_taker_room_))
      min_taker_room_ = room;
  }
  slot_engine_.resize(slot_group_.size());
  ledger_ = SlotLedger(num_slots());
  next_pipeline_id_ = static_cast<int>(slot_group_.size());
  // The lists once, not once per engine installed: that was O(N^2) at 10,000 instances.
  listing_ = false;
  for (int s = 0; s < num_slots(); ++s) make_normal(s);
  listing_ = true;
  rebuild_lists();
}

namespace {
InstanceGroup single_group(const ServingContext& ctx, int instances, std::int64_t blocks, std::int64_t host_blocks) {
  InstanceGroup g;
  g.name = "default";
  g.ctx = ctx;
  g.blocks_per_instance = blocks;
  g.host_blocks_per_instance = host_blocks;
  for (int s = 0; s < instances; ++s) {
    std::vector<int> gpus;
    for (int r = 0; r < ctx.engine->tp; ++r) gpus.push_back(s * ctx.engine->tp + r);
    g.gpus.push_back(std::move(gpus));
  }
  return g;
}
}  // namespace

ServingCluster::ServingCluster(const ServingContext& ctx, int instances, std::int64_t blocks_per_instance,
                               std::int64_t host_blocks_per_instance, std::unique_ptr<Dispatcher> dispatcher)
    : ServingCluster(ctx, {single_group(ctx, instances, blocks_per_instance, host_blocks_per_instance)},
                     std::move(dispatcher)) {}

ServingCluster::~ServingCluster() {
  prefix_directory_.close();  // the engines, destroyed next, need not withdraw their keys
}

Engine* ServingCluster::make_normal(int slot) {
  const InstanceGroup& g = groups_[slot_group_[slot]];
  Member m;
  m.slot = slot;
  m.gpus = g.gpus[slot - group_first_slot_[slot_group_[slot]]];
  m.base_blocks = g.blocks_per_instance;
  auto inst = std::make_unique<Engine>(slot, std::vector<Member>{m}, g.ctx, g.host_blocks_per_instance);
  Engine* p = inst.get();
  install(std::move(inst));
  return p;
}

void ServingCluster::install(std::unique_ptr<Engine> e) {
  const int id = e->id();
  for (std::size_t m = 0; m < e->members().size(); ++m) slot_engine_[e->members()[m].slot] = {id, static_cast<int>(m)};
  engines_[id] = std::move(e);
  if (listing_) rebuild_lists();
}

Engine* ServingCluster::uninstall(int id) {
  auto it = engines_.find(id);
  Engine* e = it->second.get();
  ledger_.credit(*e);  // its work so far, before a group it joins or replaces does more
  fusion_port(*e).retire();
  retired_engines_.push_back(std::move(it->second));
  engines_.erase(it);
  rebuild_lists();
  return e;
}

void ServingCluster::rebuild_lists() {
  engine_list_.clear();
  dispatchable_.clear();
  decoders_.clear();
  std::vector<Engine*> takers;
  for (auto& [id, e] : engines_) {
    engine_list_.push_back(e.get());
    if (groups_[e->context().group].role == InstanceRole::Decode) {
      decoders_.push_back(e.get());
      continue;
    }
    takers.push_back(e.get());
    if (!restoring_.count(id)) dispatchable_.push_back(e.get());
  }
  if (dispatchable_.empty()) dispatchable_ = takers;  // every engine restoring: queue anyway
  engine_views_.assign(engine_list_.begin(), engine_list_.end());
  dispatchable_views_.assign(dispatchable_.begin(), dispatchable_.end());
  std::fill(dispatch_index_.begin(), dispatch_index_.end(), -1);
  for (std::size_t i = 0; i < dispatchable_.size(); ++i) {
    const auto id = static_cast<std::size_t>(dispatchable_[i]->id());
    if (id >= dispatch_index_.size()) dispatch_index_.resize(id + 1, -1);
    dispatch_index_[id] = static_cast<int>(i);
  }
  dispatcher_->track(dispatchable_views_);
}

Engine* ServingCluster::instance(int id) const {
  auto it = engines_.find(id);
  return it == engines_.end() ? nullptr : it->second.get();
}

std::pair<Engine*, int> ServingCluster::slot(int s) const {
  return {instance(slot_engine_[s].first), slot_engine_[s].second};
}


bool ServingCluster::group_holds(const Request& r, const InstanceGroup& g) const {
  const std::int64_t need = r.blocks_at(r.peak_kv_tokens(), g.ctx.engine->block_size);
  return need + g.ctx.engine->watermark_blocks(g.blocks_per_instance) <= g.blocks_per_instance;
}

std::string ServingCluster::never_fits_group(const Request& r, const InstanceGroup& g) const {
  const std::int64_t need = r.blocks_at(r.peak_kv_tokens(), g.ctx.engine->block_size);
  const std::int64_t watermark = g.ctx.engine->watermark_blocks(g.blocks_per_instance);
  return "needs " + std::to_string(need) + " KV blocks, an instance" + (groups_.size() > 1 ? " of group " + g.name : "") +
         " holds " + std::to_string(g.blocks_per_instance) + " (" + std::to_string(watermark) + " kept free)";
}

std::string ServingCluster::never_fits(const Request& r) const {
  const EngineParams& e = *ctx_.engine;
  const std::int64_t len = std::int64_t{r.prompt} + r.output;
  if (len > e.max_model_len)
    return "prompt + output = " + std::to_string(len) + " tokens exceeds max_model_len " + std::to_string(e.max_model_len);
  // It must fit an instance taking arrivals and, where those hand off, a decode instance.
  const InstanceGroup* refuses[2] = {nullptr, nullptr};
  bool fits[2] = {false, !handoffs_};
  for (const InstanceGroup& g : groups_) {
    if (g.gpus.empty()) continue;
    const int side = g.role == InstanceRole::Decode ? 1 : 0;
    if (fits[side]) continue;
    if (group_holds(r, g)) fits[side] = true;
    else if (!refuses[side]) refuses[side] = &g;
  }
  for (int side = 0; side < 2; ++side)
    if (!fits[side]) return never_fits_group(r, *refuses[side]);
  return {};
}

ServingCluster::Candidates ServingCluster::fitting(const Request& r) {
  const Candidates all{&dispatchable_, &dispatchable_views_};
  if (groups_.size() == 1 || r.blocks_at(r.peak_kv_tokens(), ctx_.engine->block_size) <= min_taker_room_)
    return all;  // the tightest taking instance holds it
  fitting_.clear();
  fitting_views_.clear();
  for (Engine* e : dispatchable_)
    if (group_holds(r, groups_[e->context().group])) {
      fitting_.push_back(e);
      fitting_views_.push_back(e);
    }
  return fitting_.empty() ? all : Candidates{&fitting_, &fitting_views_};
}

void ServingCluster::dispatch(Request* r, SimTime now) {
  const Candidates candidates = fitting(*r);
  const int pick = ctx_.policy->pick_engine(*this, *r, now);
  // A policy's pick counts in dispatchable(); it stands where that engine can hold the request.
  Engine* e = nullptr;
  if (pick >= 0 && pick < static_cast<int>(dispatchable_.size()) &&
      (candidates.engines == &dispatchable_ || group_holds(*r, groups_[dispatchable_[pick]->context().group])))
    e = dispatchable_[pick];
  else if (candidates.engines == &dispatchable_ && dispatcher_->tracks_loads())
    e = dispatchable_[tracked_pick(*r, now)];
  else
    e = (*candidates.engines)[dispatcher_->pick(*candidates.views, *r, now)];
  e->enqueue(r, now);
}

std::size_t ServingCluster::tracked_pick(const Request& r, SimTime now) {
  const std::size_t i = dispatcher_->pick_tracked(r, now);
#ifndef NDEBUG
  // Every engine that moved its load said so (LoadWatch): the tracked pick is the walk's.
  const std::size_t walked = dispatcher_->pick(dispatchable_views_, r, now);
  if (i != walked)
    throw std::logic_error("ServingCluster: the dispatcher's tracked pick (" + std::to_string(i) +
                           ") is not its walk's (" + std::to_string(walked) + ") for request " + std::to_string(r.id));
#endif
  return i;
}

void ServingCluster::abort(Request* r, SimTime now) {
  Engine* e = instance(r->instance);
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
    dispatcher_->on_report(engine_views_, now);
    if (live_()) ctx_.events->schedule(now + dispatcher_->report_interval(), this, kReport);
    return;
  }
  ctx_.policy->on_tick(*this, *this, now);
  if (live_()) ctx_.events->schedule(now + ctx_.policy->tick_interval(), this, kTick);
}

std::int64_t ServingCluster::freed_blocks(int engine_id, int stage, int g) const {
  return group_freed_blocks(instance(engine_id)->context().group, stage, g);
}

std::int64_t ServingCluster::group_freed_blocks(int group, int stage, int g) const {
  const ServingContext& c = groups_[group].ctx;
  const int L = ctx_.model->layers;
  // What a member keeping stage `stage` drops: every other layer.
  const std::int64_t bytes = ctx_.model->other_layers_weight_bytes_per_gpu(stage_first_layer(stage, g, L),
                                                                           stage_layers(stage, g, L), c.engine->tp);
  return bytes / c.memory->block_bytes;
}

std::vector<Request*> ServingCluster::requests_in_flight() const {
  std::vector<Request*> out;
  for (Engine* e : engine_list_) {
    auto v = e->requests_in_flight();
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

EngineCounters ServingCluster::total_counters() const { return ledger_.total(engine_list_); }

std::vector<SlotFigures> ServingCluster::slot_figures() const { return ledger_.with(engine_list_); }

// ---- restore ----

bool ServingCluster::restore(int id, SimTime now, const std::string& reason, RestorePull pull) {
  Engine* g = instance(id);
  // Stale KV still whole on its home member must be exchanged first (no restore mid-exchange).
  if (!g || g->stages() < 2 || locked_.count(id) || g->stale_requests() > 0) return false;
  locked_.insert(id);  // it takes arrivals until its pull begins (stop_dispatching)
  const std::int64_t base = base_blocks(g->members());
  fusion_port(*g).set_admission_cap(base);
  fusion_port(*g).set_state("vacating");
  log(Decision{now, DecisionKind::Restore, DecisionPhase::Begin, {{"instance", id}, {"kv_used", g->kv().used()},
       {"kv_capacity", g->kv().capacity()}, {"base_blocks", base}, {"reason", reason}}});
  // The restore waits for the group to vacate, checking at the policy's interval.
  const SimDuration poll = ctx_.policy->tick_interval() > SimDuration{} ? ctx_.policy->tick_interval() : kNsPerSecond / 10;
  auto process = std::make_unique<RestoreProcess>(host(), id, pull, poll, now);
  RestoreProcess* p = process.get();
  start(std::move(process));
  p->begin(now);
  return true;
}

// ---- migrate (Llumnix) ----

bool ServingCluster::migrate(int src, RequestId id, int dst, SimTime now) {
  Engine* s = instance(src);
  Engine* d = instance(dst);
  if (!s || !d || src == dst || s->stages() != 1 || d->stages() != 1 || locked_.count(src) || locked_.count(dst) ||
      s->context().group != d->context().group)
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

void ServingCluster::stop_dispatching(int engine_id) {
  restoring_.insert(engine_id);
  rebuild_lists();
}

std::vector<Engine*> ServingCluster::split(int pipeline_id) {
  Engine* g = uninstall(pipeline_id);
  std::vector<Engine*> parts;
  for (const Member& m : g->members()) parts.push_back(make_normal(m.slot));
  return parts;
}

}  // namespace kunsim
