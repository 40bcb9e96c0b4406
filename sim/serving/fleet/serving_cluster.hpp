// ServingCluster: the engines serving a scenario and the reconfigurations policies may ask for.
// It owns the engines (normal instances and KunServe pipeline groups), routes arrivals, and
// carries out, as events on the simulated cluster:
//   fuse     - KunServe's drop: pause g instances at a step boundary, drop (g-1)/g of each
//              one's layer weights into KV blocks, run them as one pipeline; stale requests keep
//              their KV until the exchange spreads it (StepExchange, KvExchange), or recompute;
//   grow     - a fused group of g takes in normal instances to become g' = k*g stages: each
//              old stage splits among its member and k-1 newcomers (members drop more layers,
//              pull none back), a StageRelay moves the per-stage KV to the new boundaries,
//              then the newcomers' stale KV is exchanged as after a drop;
//   restore  - vacate the extra blocks, pull the dropped layers back from the peers over their
//              routes (the group stalled, or serving meanwhile), gather each request's KV on
//              one member, split;
//   migrate  - Llumnix's live migration of a decoding request and its KV to another instance;
//   hand off - a prefill instance's prefilled request moves, with its KV, to a decode instance
//              (KvHandoffs, disaggregated fleets).
// Engines come in instance groups (instance_group.hpp); fusion, growth and migration stay
// within one group, whose instances share a GPU kind, TP degree and engine knobs.
// Policies see it read-only (ClusterView) and act through its commands (ClusterCommands); it
// never decides.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "sim/serving/dispatch/dispatcher.hpp"
#include "sim/serving/engine/engine.hpp"
#include "sim/serving/fleet/cluster_view.hpp"
#include "sim/serving/fleet/instance_group.hpp"
#include "sim/serving/fleet/slot_ledger.hpp"
#include "sim/serving/reconfig/kv_handoff.hpp"
#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class ServingCluster final : public EventHandler,
                             public ClusterView,
                             public ClusterCommands,
                             private ReconfigurationHost,
                             private LoadWatch {
 public:
  // `groups` in slot order (slots number their instances group by group); each group's ctx is
  // the cluster's with its own engine, memory and cost. `layerwise` prefill -> decode
  // hand-offs stream KV as layers are computed instead of after the prefill.
  ServingCluster(const ServingContext& ctx, std::vector<InstanceGroup> groups, std::unique_ptr<Dispatcher> dispatcher,
                 bool layerwise = false);
  // One mixed group of `instances` on GPUs [slot * tp, (slot + 1) * tp) (tests).
  ServingCluster(const ServingContext& ctx, int instances, std::int64_t blocks_per_instance,
                 std::int64_t host_blocks_per_instance, std::unique_ptr<Dispatcher> dispatcher);
  ~ServingCluster() override;

  // ClusterView. Every engine, by id: fuse() and restore() change this list (at once, or when
  // the paused instances stop), so iterate over a copy when calling them. Dispatchable: the
  // engines accepting arrivals (restoring groups stop taking new work).
  std::span<const EngineView* const> engines() const override { return engine_views_; }
  std::span<const EngineView* const> dispatchable() const override { return dispatchable_views_; }
  const EngineView* engine(int id) const override { return instance(id); }
  bool reconfiguring(int engine_id) const override { return locked_.count(engine_id) > 0; }
  std::int64_t freed_blocks(int engine_id, int stage, int g) const override;
  const ModelSpec& model() const override { return *ctx_.model; }
  const Topology& topology() const override { return *ctx_.topology; }
  int instance_groups() const override { return static_cast<int>(groups_.size()); }

  // The serving layer's own access, for the run that owns the cluster (and its tests).
  Engine* instance(int id) const override;
  const std::vector<Engine*>& engine_list() const { return engine_list_; }
  const std::vector<InstanceGroup>& groups() const { return groups_; }
  int num_slots() const { return static_cast<int>(slot_engine_.size()); }
  // The engine a slot (an original instance) belongs to now, and its member index there.
  std::pair<Engine*, int> slot(int s) const;
  const ServingContext& context() const override { return ctx_; }

  // Why no instance could ever serve `r` (too long for max_model_len, or more KV at its peak
  // than an instance holds above the watermark); empty when one can.
  std::string never_fits(const Request& r) const;
  void dispatch(Request* r, SimTime now);
  // Policy ticks, and load reports to a dispatcher that wants them, run while `live()` says the
  // run has work left (requests in flight or still to arrive); periodic events alone must not
  // keep a finished run going.
  void start_ticks(SimTime now, std::function<bool()> live);
  void handle_event(SimTime now, std::uint64_t arg) override;  // policy ticks, load reports

  // KV blocks of one instance of the first group (tests of the single form).
  std::int64_t blocks_per_instance() const { return groups_.front().blocks_per_instance; }
  // The instance group of slot `s`.
  int slot_group(int s) const { return slot_group_[s]; }
  const KvHandoffs* handoffs() const { return handoffs_.get(); }

  // ClusterCommands.
  bool fuse(const std::vector<int>& engine_ids, const FuseOptions& opt, SimTime now) override;
  bool grow(int pipeline_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now) override;
  bool restore(int engine_id, SimTime now, const std::string& reason, RestorePull pull) override;
  void record(Decision d) override { log(std::move(d)); }
  bool migrate(int src_engine, RequestId request, int dst_engine, SimTime now) override;
  // The client of `r` (in an engine) gave up: the engine holding it aborts it.
  void abort(Request* r, SimTime now);

  // Every request still in an engine (for the end-of-run count).
  std::vector<Request*> requests_in_flight() const;
  // Counters summed over every engine that ever ran, each counted once.
  EngineCounters total_counters() const;
  // Each deployment instance's share of them, by SlotLedger's rule (summary.json's instances[]).
  std::vector<SlotFigures> slot_figures() const;
  void log(Decision d) override { ctx_.observer->on_decision(d); }

 private:
  // ReconfigurationHost: what the exchange, restore and migration processes may do.
  std::vector<Engine*> split(int pipeline_id) override;
  void done(EventHandler* process, const std::vector<int>& engines) override;
  const std::vector<Engine*>& decoders() const override { return decoders_; }
  void stop_dispatching(int engine_id) override;
  PipelinePort& pipeline_port(Engine& e) override { return e.pipeline_port_; }
  MigrationEnd& migration_end(Engine& e) override { return e.migration_end_; }
  HandoffEnd& handoff_end(Engine& e) override { return e.handoff_end_; }
  FusionPort& fusion_port(Engine& e) override { return e.fusion_port_; }
  void start(std::unique_ptr<EventHandler> process);
  ReconfigurationHost& host() { return *this; }
  struct Joining;
  // A normal, unlocked engine without swapped requests: one that may join a group.
  bool joinable(int id) const;
  // Locks `ids` and pauses each at its next step boundary; `then` runs when the last has paused.
  void lock_and_pause(const std::vector<int>& ids, SimTime now, std::function<void(SimTime)> then);
  void do_fuse(const std::vector<int>& ids, const FuseOptions& opt, SimTime now);
  void do_grow(int pipeline_id, const std::vector<int>& partners, const FuseOptions& opt, SimTime now);
  bool grown_fits(const Engine& group, const std::vector<int>& partners, SimTime now) const;
  // After a drop's work or a growth's relay: the stale KV's exchange starts; the group is
  // unblocked unless a blocking exchange took it over (returned true).
  bool exchange_or_release(Engine& group, const FuseOptions& opt, SimTime now);
  Engine* install_pipeline(std::vector<Member> members, Joining& j, const FuseOptions& opt);
  static nlohmann::json pipeline_fields(const Engine& gp, const Joining& j, const FuseOptions& opt);
  void log_with_plan(Decision row, const FuseOptions& opt);
  // Starts the exchange of `gp`'s stale KV, if it has any (false: none to exchange).
  bool start_exchange(Engine& gp, const FuseOptions& opt, SimTime now);
  void install(std::unique_ptr<Engine> e);
  // Takes an engine out of the list; it stays alive (retired) until the run ends, since
  // events for it may still be queued.
  Engine* uninstall(int id);
  void rebuild_lists();
  // LoadWatch: an engine's load moved; a dispatcher that tracks loads hears of it by its index
  // in dispatchable().
  void load_changed(int engine_id) override {
    const auto id = static_cast<std::size_t>(engine_id);
    if (id < dispatch_index_.size() && dispatch_index_[id] >= 0) dispatcher_->load_changed(dispatch_index_[id]);
  }
  Engine* make_normal(int slot);
  std::int64_t group_freed_blocks(int group, int stage, int g) const;
  // Whether an instance of `g` can ever hold `r`, and why not when it cannot.
  bool group_holds(const Request& r, const InstanceGroup& g) const;
  std::string never_fits_group(const Request& r, const InstanceGroup& g) const;
  // The dispatchable engines whose group can ever hold `r` (all of them, as one list, when
  // every taking group can), with their views for the dispatcher.
  struct Candidates {
    const std::vector<Engine*>* engines;
    const std::vector<const EngineView*>* views;
  };
  Candidates fitting(const Request& r);
  // The tracking dispatcher's pick over every dispatchable engine (checked against its walk in
  // debug builds).
  std::size_t tracked_pick(const Request& r, SimTime now);

  ServingContext ctx_;
  PrefixDirectory prefix_directory_;  // before the engines: they withdraw from it when destroyed
  std::vector<InstanceGroup> groups_;
  std::vector<int> slot_group_;       // slot -> its instance group
  std::vector<int> group_first_slot_;  // instance group -> its first slot
  std::int64_t min_taker_room_ = -1;  // blocks above the watermark of the tightest instance taking arrivals
  std::vector<Engine*> fitting_;     // scratch of fitting()
  std::vector<const EngineView*> fitting_views_;
  std::unique_ptr<KvHandoffs> handoffs_;  // where prefill instances hand off
  std::unique_ptr<Dispatcher> dispatcher_;
  std::function<bool()> live_;
  std::map<int, std::unique_ptr<Engine>> engines_;
  std::vector<std::unique_ptr<Engine>> retired_engines_;
  std::vector<Engine*> engine_list_, dispatchable_, decoders_;
  std::vector<const EngineView*> engine_views_, dispatchable_views_;  // the same, as policies see them
  std::vector<int> dispatch_index_;               // engine id -> its index in dispatchable_ (-1: none)
  bool listing_ = true;                           // install() rebuilds the lists (not while the first engines are made)
  std::vector<std::pair<int, int>> slot_engine_;  // slot -> (engine id, member index)
  std::set<int> locked_;                           // engines under reconfiguration
  std::set<int> restoring_;                        // groups that no longer take arrivals
  std::vector<std::unique_ptr<EventHandler>> processes_;  // exchanges, restores, migrations in flight
  std::vector<std::unique_ptr<EventHandler>> finished_;   // ended inside their last event
  SlotLedger ledger_{0};                                  // the work of retired engines, by slot
  int next_pipeline_id_;
};

}  // namespace kunsim
