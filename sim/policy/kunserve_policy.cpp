// kunserve: KunServe's parameter-centric answer to KV overload (arXiv 2412.18169). Every
// check_interval_s each normal instance votes to drop when its KV usage >= drop_usage and the
// blocks its queue needs >= its free blocks. What the votes fuse depends on drop_scope:
//   all (the default with group_size; the reference's coordinator): static groups of g
//     consecutive instances; once one group's vote passes, every group fuses; once one group's
//     leader votes to restore, every group restores (tick_all);
//   planned (kunsim's): the DropPlanner turns the votes into groups, each g the smallest that
//     covers the demand within max_cycle_s, and a fused group that votes again grows
//     (g -> k*g, DropPlanner::grow) unless `grow` is off (tick_planned).
// Each group fuses into one pipeline (ServingCluster::fuse) whose dropped weights became KV
// blocks. A group's leader (first member) votes to restore when nothing is queued and the
// group's usage of its base blocks (the members' own KV region, not the blocks made from
// weights) is <= restore_usage and falling over the trend window of the leader's history, as
// the reference's valley_check does. Hysteresis, kunsim's own (the reference has none):
// neither a drop nor a restore within min_dwell_s of the instances' last reconfiguration.
// Preemption recomputes, as the reference's preempt_method does.
// This file decides; the mechanics it asks for are driven by the serving layer, below policies,
// all in sim/serving/reconfig/kunserve/: the fusion and growth (pipeline_fusion.cpp), the
// pipeline's cost (pipeline_cost.*, which DropPlanner prices plans with too), the live KV
// exchange within the group's steps (step_exchange.*) or blocking (kv_exchange.*), the stage
// relay of a growth (stage_relay.*) and the restore (restore_process.*). The engine's side of
// it is sim/serving/engine/pipeline_port.*.
#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/policy/drop_planner.hpp"
#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

// all: the reference's coordinator, every static group of group_size at once; planned: kunsim's
// greedy DropPlanner, the voters' groups only.
enum class DropScope { All, Planned };

struct KunServeParams {
  double check_interval_s = 0.1;
  double drop_usage = 0.95;
  double restore_usage = 0.5;
  int trend_window = 30;  // ticks
  double min_dwell_s = 5.0;
  bool enable_restore = true;
  RestorePull restore_pull = RestorePull::Stall;
  bool grow = true;
  DropScope scope = DropScope::Planned;
  bool max_cycle_given = false;  // else the scenario's TPOT SLO
  FuseOptions fuse;
  DropPlannerParams planner;
};

class KunServePolicy final : public MemoryOverloadPolicy {
 public:
  explicit KunServePolicy(KunServeParams p) : p_(std::move(p)) {}
  std::string name() const override { return "kunserve"; }
  // Pipelines fuse instances that serve whole requests; fusing prefill or decode instances
  // (whose requests arrive by hand-off) is not modelled.
  std::string fleet_refusal(const FleetShape& fleet) const override {
    if (p_.planner.group_size > fleet.largest_group)
      return "group_size: " + std::to_string(p_.planner.group_size) +
             " is more instances than an instance group has (" + std::to_string(fleet.largest_group) +
             "): no pipeline could ever form, and kunserve would never act";
    if (p_.scope == DropScope::All)
      for (int count : fleet.counts)
        if (count % p_.planner.group_size != 0)
          return "group_size: " + std::to_string(p_.planner.group_size) + " does not divide an instance group of " +
                 std::to_string(count) +
                 " instances: drop_scope all fuses consecutive instances [k*g, (k+1)*g) of each group";
    // A pipeline's micro-batches would verify drafts stage by stage, and a fused group's KV
    // exchange would move the draft's KV too: neither is modelled, so the pairing is refused.
    if (fleet.speculative)
      return "kunserve's pipelines are not modelled with speculative decoding (deployment.speculative): run it "
             "with vllm, vllm-swap, infercept or llumnix, or turn speculation off";
    // kunsim's KunServe drops whole layers (its paper's and reference's vLLM mechanism). The
    // reference's later SGLang port drops experts instead, each replica keeping 1/g of them with
    // tokens all-gathered across replicas; kunsim does not model that, and a layer-dropping
    // pipeline over expert-parallel instances would move every expert of a dropped layer.
    if (fleet.expert_parallel)
      return "kunserve drops whole layers of tensor-parallel instances; expert-parallel instances "
             "(deployment.expert_parallel) are not modelled: serve the MoE model with TP, or run vllm, vllm-swap, "
             "infercept or llumnix";
    // A dropped layer frees its share of every block; a sliding layer's KV is a fixed count of
    // blocks per request instead (ModelSpec::window_blocks), which kunsim's drop does not split.
    if (fleet.sliding_window)
      return "kunserve's layer drop is not modelled for models with sliding-window layers (model.sliding_window): "
             "run them with vllm, vllm-swap, infercept or llumnix";
    if (!fleet.disaggregated) return {};
    return "kunserve fuses instances that serve requests whole; a fleet with prefill and decode roles "
           "(deployment.groups.*.role) is not supported: run it with vllm, vllm-swap, infercept or llumnix, "
           "or give kunserve a mixed fleet";
  }
  SimDuration tick_interval() const override { return seconds_to_ns(p_.check_interval_s); }

  void fit(const FleetShape& fleet) override {
    if (!p_.max_cycle_given) p_.planner.max_cycle_s = fleet.tpot_slo_s;
  }

  void do_on_tick(const ClusterView& c, ClusterCommands& cmd, SimTime now) override {
    // A snapshot: a restore below, or a fuse of idle instances, changes the engine list.
    const std::vector<const EngineView*> engines(c.engines().begin(), c.engines().end());
    std::map<int, Seen> seen;  // by engine id
    for (const EngineView* e : engines) {
      Seen& v = seen[e->id()];
      v.engine = e;
      const auto used = static_cast<double>(e->kv_used_at(now));
      const double usage = e->kv_capacity() ? used / static_cast<double>(e->kv_capacity()) : 0;
      // The restore's usage: against the base blocks, in the history of the leader's slot (a
      // normal instance is its own leader, and its base is its capacity).
      const std::int64_t base = base_blocks(e->members());
      const double base_usage = base ? used / static_cast<double>(base) : 0;
      auto& hist = history_[e->members()[0].slot];
      hist.push_back(base_usage);
      if (static_cast<int>(hist.size()) > p_.trend_window) hist.pop_front();
      // A group's dwell starts the first time it is seen (fusion completes at a step boundary).
      if (e->stages() > 1 && !settled_.count(e->id())) settled_[e->id()] = now + seconds_to_ns(p_.min_dwell_s);
      v.free = !c.reconfiguring(e->id()) && now >= settled_[e->id()];
      v.load = load_of(*e, usage, now);
      if (v.free && e->stages() > 1) v.restore_vote = restore_vote(*e, base_usage, hist);
    }
    if (p_.scope == DropScope::All)
      tick_all(cmd, seen, now);
    else
      tick_planned(c, cmd, seen, now);
  }

 private:
  // One engine as this tick sees it.
  struct Seen {
    const EngineView* engine = nullptr;
    bool free = false;         // not reconfiguring, and past its dwell
    InstanceLoad load;         // with its drop vote
    std::string restore_vote;  // a group's leader votes to restore: why (empty: no vote)
  };

  // drop_scope planned: kunsim's greedy fuses the voters' groups, grows groups that vote again,
  // and restores each group on its own vote.
  void tick_planned(const ClusterView& c, ClusterCommands& cmd, const std::map<int, Seen>& seen, SimTime now) {
    // Normal instances by instance group: groups fuse and grow only within themselves.
    std::map<int, std::vector<InstanceLoad>> loads;
    std::vector<InstanceLoad> growing;  // groups voting to drop again
    for (const auto& [id, v] : seen) {
      if (!v.free) continue;
      if (v.engine->stages() == 1) {
        loads[v.engine->instance_group()].push_back(v.load);
      } else if (v.load.votes && p_.grow) {
        growing.push_back(v.load);
      } else if (!v.restore_vote.empty() && cmd.restore(id, now, v.restore_vote, p_.restore_pull)) {
        for (const Member& m : v.engine->members()) settled_[m.slot] = now + seconds_to_ns(p_.min_dwell_s);
      }
    }
    bool any_vote = !growing.empty();
    for (const auto& [group, ls] : loads)
      for (const auto& l : ls) any_vote |= l.votes;
    if (!any_vote) return;
    const DropPlanner planner(c, p_.planner);
    std::set<int> taken;
    for (const auto& [group, ls] : loads) {
      std::vector<PipelinePlan> refused;
      for (const PipelinePlan& plan : planner.plan(ls, &refused)) {
        taken.insert(plan.ids.begin(), plan.ids.end());
        act(plan, now, [&](const FuseOptions& opt) { return cmd.fuse(plan.ids, opt, now); });
      }
      for (const PipelinePlan& no : refused) {
        nlohmann::json fields = no.to_json();
        fields["instance"] = no.ids.front();
        fields["reason"] = no.refusal;
        cmd.record(Decision{now, DecisionKind::NoDrop, DecisionPhase::None, std::move(fields)});
      }
    }
    std::stable_sort(growing.begin(), growing.end(), [](const auto& a, const auto& b) { return a.demand > b.demand; });
    for (const InstanceLoad& l : growing) {
      const PipelinePlan plan = planner.grow(l, loads[c.engine(l.id)->instance_group()], taken);
      if (plan.g == 0) continue;
      taken.insert(plan.ids.begin(), plan.ids.end());
      const std::vector<int> partners(plan.ids.begin() + 1, plan.ids.end());
      act(plan, now, [&](const FuseOptions& opt) { return cmd.grow(l.id, partners, opt, now); });
    }
  }

  InstanceLoad load_of(const EngineView& e, double usage, SimTime now) const {
    const int block_size = e.settings().block_size;
    InstanceLoad l;
    l.id = e.id();
    l.capacity = e.kv_capacity();
    l.used = e.kv_used_at(now);
    l.free = l.capacity - l.used;
    l.queued = e.queued_blocks();
    l.decodes = e.decoding();
    l.context_sum = e.decode_context_sum();
    l.votes = usage >= p_.drop_usage && l.queued >= l.free;
    l.demand = std::max<std::int64_t>(0, l.queued - l.free) +
               l.decodes * ((p_.planner.growth_tokens + block_size - 1) / block_size);
    return l;
  }

  // Logs the plan's reason with it, and after a fuse or growth holds its engines and slots
  // still for min_dwell_s.
  template <class Command>
  void act(const PipelinePlan& plan, SimTime now, Command command) {
    FuseOptions opt = p_.fuse;
    opt.plan = plan.to_json();
    opt.plan["reason"] = std::to_string(plan.votes) + " of " + std::to_string(plan.g) +
                         " voted (KV usage >= " + std::to_string(p_.drop_usage) + " and queued blocks >= free blocks)";
    if (!command(opt)) return;
    for (int id : plan.ids) settled_[id] = now + seconds_to_ns(p_.min_dwell_s);
  }

  // A group's leader votes to restore (valley_check): why, or empty for no vote.
  std::string restore_vote(const EngineView& e, double usage, const std::deque<double>& hist) const {
    if (!p_.enable_restore || e.waiting() > 0 || usage > p_.restore_usage) return {};
    if (static_cast<int>(hist.size()) < p_.trend_window || !(hist.back() < hist.front())) return {};
    return "nothing queued, usage of the base blocks " + std::to_string(usage) +
           " <= " + std::to_string(p_.restore_usage) + " and falling (" + std::to_string(hist.front()) + " -> " +
           std::to_string(hist.back()) + ")";
  }

  // drop_scope all, as the reference's coordinator runs it: the instances of each instance group
  // form static groups of g consecutive ones, [k*g, (k+1)*g). Once one group's vote passes
  // (votes > 0 and votes >= g/2), every group balloons; a member that cannot join yet (locked,
  // swapping) makes its group wait for the next check. Once one group's leader votes to
  // restore, every group restores (a group with stale KV left waits for its exchange).
  void tick_all(ClusterCommands& cmd, const std::map<int, Seen>& seen, SimTime now) {
    if (static_groups_.empty()) {
      std::map<int, std::vector<int>> slots;  // by instance group, ascending
      for (const auto& [id, v] : seen)
        for (const Member& m : v.engine->members()) slots[v.engine->instance_group()].push_back(m.slot);
      for (auto& [group, ss] : slots) {
        std::sort(ss.begin(), ss.end());
        for (std::size_t k = 0; k + p_.planner.group_size <= ss.size(); k += p_.planner.group_size)
          static_groups_.emplace_back(ss.begin() + static_cast<std::ptrdiff_t>(k),
                                      ss.begin() + static_cast<std::ptrdiff_t>(k) + p_.planner.group_size);
      }
    }
    std::map<int, const Seen*> by_slot;
    for (const auto& [id, v] : seen)
      for (const Member& m : v.engine->members()) by_slot[m.slot] = &v;
    auto fused = [&](const std::vector<int>& g) { return by_slot.at(g[0])->engine->stages() > 1; };
    const bool any_fused = std::any_of(static_groups_.begin(), static_groups_.end(), fused);
    const bool all_fused = std::all_of(static_groups_.begin(), static_groups_.end(), fused);
    if (!any_fused) restoring_all_.clear();
    if (all_fused) ballooning_.clear();
    // A restore under way finishes first; then a passed vote balloons every group.
    if (restoring_all_.empty() && ballooning_.empty()) {
      for (std::size_t k = 0; k < static_groups_.size() && ballooning_.empty(); ++k) {
        const std::vector<int>& g = static_groups_[k];
        if (fused(g)) continue;
        int votes = 0;
        bool settled = true;
        for (int slot : g) {
          votes += by_slot.at(slot)->load.votes;
          settled &= by_slot.at(slot)->free;
        }
        if (settled && votes > 0 && 2 * votes >= static_cast<int>(g.size()))
          ballooning_ = "group " + std::to_string(k) + ": " + std::to_string(votes) + " of " +
                        std::to_string(g.size()) + " voted (KV usage >= " + std::to_string(p_.drop_usage) +
                        " and queued blocks >= free blocks); drop_scope all fuses every group";
      }
      for (std::size_t k = 0; k < static_groups_.size() && ballooning_.empty() && all_fused; ++k) {
        const Seen& leader = *by_slot.at(static_groups_[k][0]);
        if (!leader.restore_vote.empty())
          restoring_all_ = "group " + std::to_string(k) + "'s leader: " + leader.restore_vote +
                           "; drop_scope all restores every group";
      }
    }
    for (std::size_t k = 0; k < static_groups_.size(); ++k) {
      const std::vector<int>& g = static_groups_[k];
      const Seen& first = *by_slot.at(g[0]);
      if (!ballooning_.empty() && !fused(g)) {
        FuseOptions opt = p_.fuse;
        opt.plan = {{"scope", "all"}, {"static_group", k}, {"reason", ballooning_}};
        if (cmd.fuse(g, opt, now))
          for (int id : g) settled_[id] = now + seconds_to_ns(p_.min_dwell_s);
      } else if (!restoring_all_.empty() && fused(g) && first.free &&
                 cmd.restore(first.engine->id(), now, restoring_all_, p_.restore_pull)) {
        for (int slot : g) settled_[slot] = now + seconds_to_ns(p_.min_dwell_s);
      }
    }
  }

  PreemptDecision do_on_preempt(const EngineView&, const Request&) override {
    return {PreemptMode::Recompute, "kunserve preempt_method=recompute"};
  }
  KunServeParams p_;
  std::map<int, std::deque<double>> history_;
  std::map<int, SimTime> settled_;  // engine or slot id -> no reconfiguration before
  // drop_scope all: the static groups (slots), and the vote that set every group ballooning or
  // restoring (empty: none under way).
  std::vector<std::vector<int>> static_groups_;
  std::string ballooning_, restoring_all_;
};

PolicyMaker make_kunserve(JsonFields& f) {
  KunServeParams p;
  p.check_interval_s = f.number("check_interval_s", p.check_interval_s, 1e-3, 60,
                                Help{"seconds between the overload and restore checks"});
  p.drop_usage = f.number("drop_usage", p.drop_usage, 0.01, 1.0,
                          Help{"an instance votes to drop at this KV usage (and queued blocks >= free blocks)"});
  p.restore_usage =
      f.number("restore_usage", p.restore_usage, 0.0, 1.0,
               Help{"a pipeline restores at or below this usage of its base KV blocks (without those made from "
                    "weights), with nothing queued and usage falling"});
  p.trend_window = static_cast<int>(
      f.integer("trend_window", p.trend_window, 2, 10000, Help{"checks over which usage must fall before a restore"}));
  p.min_dwell_s = f.number("min_dwell_s", p.min_dwell_s, 0, 3600,
                           Help{"no drop or restore within this long of an instance's last reconfiguration"});
  p.enable_restore =
      f.boolean("enable_restore", p.enable_restore, Help{"restore pipelines to normal instances after the burst"});
  p.restore_pull =
      f.choice("restore_pull", "stall", {"stall", "overlap"},
               Help{"a restore's pull of the dropped layers: the group serves nothing meanwhile (stall, as "
                    "the reference's worker actors run it between forwards) or keeps serving (overlap)"}) == "overlap"
          ? RestorePull::Overlap
          : RestorePull::Stall;
  p.grow = f.boolean("grow", p.grow, Help{"a pipeline that votes again grows to a multiple of its stages (planned)"});
  const std::string mode = f.choice(
      "stale_kv", "stall-exchange",
      {"stall-exchange", "remote-attention", "blocking-exchange", "recompute", "exchange"},
      Help{"requests running at a drop: wait for their KV exchange, a part of every step (the reference's "
           "livereshard); decode by remote attention meanwhile (the paper's v1 design; 'exchange' is its old name); "
           "stop the group until all is exchanged; or recompute"});
  p.fuse.stale_kv = mode == "stall-exchange"                           ? StaleKvMode::StallExchange
                    : mode == "remote-attention" || mode == "exchange" ? StaleKvMode::RemoteAttention
                    : mode == "recompute"                              ? StaleKvMode::Recompute
                                                                       : StaleKvMode::BlockingExchange;
  p.fuse.exchange.batch = static_cast<int>(
      f.integer("exchange_batch", p.fuse.exchange.batch, 1, 4096,
                Help{"stale requests each virtual engine (stage) exchanges per step, as the reference's "
                     "exchange_batch_size counts them; per round of a blocking exchange"}));
  p.fuse.exchange.path =
      f.choice("exchange_path", "p2p", {"p2p", "host"},
               Help{"the exchange's transport: GPU to GPU (NVLink within a node), or staged through host memory "
                    "as the reference's evaluation ran it (NCCL_P2P_DISABLE=1)"}) == "host"
          ? ExchangePath::Host
          : ExchangePath::P2p;
  p.fuse.micro_batching =
      f.choice("micro_batches", "virtual-engines", {"virtual-engines", "look-ahead"},
               Help{"how a pipeline group forms its micro-batches: each request bound to one virtual engine, the "
                    "one with the fewest unfinished requests at its arrival, and an engine with prefills stepping "
                    "prefill-only while its decodes wait (the reference's default); or balanced micro-batches, "
                    "decodes spread evenly and prompts split longest first (the reference's opt-in "
                    "enable_look_ahead)"}) == "look-ahead"
          ? MicroBatching::LookAhead
          : MicroBatching::VirtualEngines;
  p.fuse.drop_latency = seconds_to_ns(
      f.number("drop_latency_s", 0, 0, 60,
               Help{"seconds a drop takes before its group serves: the reference stops the engines, merges their "
                    "schedulers over Ray, converts free blocks and unmaps the dropped layers (pmm_drop), for which "
                    "no measured rate is at hand: give your own (0: instantaneous once the engines pause)"}));
  p.fuse.exchange.interval = seconds_to_ns(f.number(
      "exchange_interval_s", ns_to_seconds(p.fuse.exchange.interval), 0, 60,
      Help{"a what-if: at least this long between two steps that exchange (0: every step, as the reference)"}));
  p.planner.max_group_size = static_cast<int>(f.integer("max_group_size", p.planner.max_group_size, 2, 64,
                                                        Help{"the most stages the planner gives a pipeline"}));
  if (f.has("group_size"))
    p.planner.group_size =
        static_cast<int>(f.integer("group_size", 2, 64,
                                   Help{"a static number of stages for every pipeline (the reference's --group-size); "
                                        "with it drop_scope defaults to all",
                                        "none: the planner picks"}));
  p.planner.growth_tokens =
      static_cast<int>(f.integer("growth_tokens", p.planner.growth_tokens, 0, 1 << 20,
                                 Help{"tokens of decode growth the planner reserves per running request"}));
  const bool static_g = f.has("group_size");
  p.scope = f.choice("drop_scope", static_g ? "all" : "planned", {"all", "planned"},
                     Help{"all: once a static group's vote passes, every group of group_size consecutive instances "
                          "fuses, and every group restores together (the reference's coordinator); planned: kunsim's "
                          "greedy fuses the voters' groups",
                          "all with group_size, else planned"}) == "all"
                ? DropScope::All
                : DropScope::Planned;
  if (p.scope == DropScope::All) {
    if (!static_g)
      throw InputError(f.path_of("drop_scope") + ": all needs policy.group_size (the reference's --group-size)");
    if (f.has("grow") && p.grow)
      throw InputError(f.path_of("grow") + ": a group never grows under drop_scope all (static groups of group_size)");
    p.grow = false;
  }
  if (f.has("max_cycle_s")) {
    p.planner.max_cycle_s = f.number("max_cycle_s", 1e-4, 60,
                                     Help{"planned: no group size whose estimated pipeline cycle (a token of every "
                                          "decode in the group) exceeds this",
                                          "the scenario's slo.tpot_s"});
    p.max_cycle_given = true;
  }
  if (p.restore_usage >= p.drop_usage)
    throw InputError(f.path_of("restore_usage") + ": must be below drop_usage, or groups would flap");
  return [p] { return std::make_unique<KunServePolicy>(p); };
}

}  // namespace

KUNSIM_REGISTER_POLICY(kunserve, "kunserve",
                       "KunServe: drop replicated weights into KV blocks, fuse instances into pipelines, restore after",
                       make_kunserve);

}  // namespace kunsim
