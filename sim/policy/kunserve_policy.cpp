// kunserve: KunServe's parameter-centric answer to KV overload (arXiv 2412.18169). Every
// check_interval_s each normal instance votes to drop when its KV usage >= drop_usage and the
// blocks its queue needs >= its free blocks; the DropPlanner turns the votes into groups, and
// each group fuses into one pipeline (ServingCluster::fuse) whose dropped weights became KV
// blocks. A group votes to restore when nothing is queued, usage <= restore_usage and usage
// is falling over the trend window, usage counted against its base blocks (the members' own KV
// region, not the blocks made from weights), as the reference's valley_check does; only its
// leader (first member) votes, with the usage history its instance kept before the drop. A
// group that votes to drop again (as an instance votes)
// grows instead (g -> k*g, DropPlanner::grow) with instances no new group took, unless
// `grow` is off or group_size is static. Hysteresis: neither a drop nor a restore is considered
// within min_dwell_s of the instances' last reconfiguration. Preemption recomputes, as the
// reference's preempt_method does.
// This file decides; the mechanics it asks for are driven by the serving layer, below policies,
// all in sim/serving/reconfig/kunserve/: the fusion and growth (pipeline_fusion.cpp), the
// pipeline's cost (pipeline_cost.*, which DropPlanner prices plans with too), the live KV
// exchange (kv_exchange.*), the stage relay of a growth (stage_relay.*) and the restore
// (restore_process.*). The engine's side of it is sim/serving/engine/pipeline_port.*.
#include <deque>
#include <map>
#include <set>

#include "sim/policy/drop_planner.hpp"
#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

struct KunServeParams {
  double check_interval_s = 0.1;
  double drop_usage = 0.95;
  double restore_usage = 0.5;
  int trend_window = 30;  // ticks
  double min_dwell_s = 5.0;
  bool enable_restore = true;
  RestorePull restore_pull = RestorePull::Stall;
  bool grow = true;
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
    if (!fleet.disaggregated) return {};
    return "kunserve fuses instances that serve requests whole; a fleet with prefill and decode roles "
           "(deployment.groups.*.role) is not supported: run it with vllm, vllm-swap, infercept or llumnix, "
           "or give kunserve a mixed fleet";
  }
  SimDuration tick_interval() const override { return seconds_to_ns(p_.check_interval_s); }

  void do_on_tick(const ClusterView& c, ClusterCommands& cmd, SimTime now) override {
    // Normal instances by instance group: groups fuse and grow only within themselves.
    std::map<int, std::vector<InstanceLoad>> loads;
    // A snapshot: a restore below, or a fuse of idle instances, changes the engine list.
    const std::vector<const EngineView*> engines(c.engines().begin(), c.engines().end());
    std::vector<InstanceLoad> growing;  // groups voting to drop again
    for (const EngineView* e : engines) {
      const double usage = e->kv_capacity() ? static_cast<double>(e->kv_used_at(now)) / e->kv_capacity() : 0;
      // The restore's usage: against the base blocks, in the history of the leader's slot (a
      // normal instance is its own leader, and its base is its capacity).
      std::int64_t base = 0;
      for (const Member& m : e->members()) base += m.base_blocks;
      const double base_usage = base ? static_cast<double>(e->kv_used_at(now)) / base : 0;
      auto& hist = history_[e->members()[0].slot];
      hist.push_back(base_usage);
      if (static_cast<int>(hist.size()) > p_.trend_window) hist.pop_front();
      // A group's dwell starts the first time it is seen (fusion completes at a step boundary).
      if (e->stages() > 1 && !settled_.count(e->id())) settled_[e->id()] = now + seconds_to_ns(p_.min_dwell_s);
      if (c.reconfiguring(e->id()) || now < settled_[e->id()]) continue;
      const InstanceLoad l = load_of(*e, usage, now);
      if (e->stages() == 1) {
        loads[e->instance_group()].push_back(l);
      } else if (l.votes && p_.grow) {
        growing.push_back(l);
      } else {
        consider_restore(cmd, *e, base_usage, hist, now);
      }
    }
    bool any_vote = !growing.empty();
    for (const auto& [group, ls] : loads)
      for (const auto& l : ls) any_vote |= l.votes;
    if (!any_vote) return;
    const DropPlanner planner(c, p_.planner);
    std::set<int> taken;
    for (const auto& [group, ls] : loads)
      for (const PipelinePlan& plan : planner.plan(ls)) {
        taken.insert(plan.ids.begin(), plan.ids.end());
        act(plan, now, [&](const FuseOptions& opt) { return cmd.fuse(plan.ids, opt, now); });
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

  void consider_restore(ClusterCommands& cmd, const EngineView& e, double usage, const std::deque<double>& hist, SimTime now) {
    if (!p_.enable_restore || e.waiting() > 0 || usage > p_.restore_usage) return;
    if (static_cast<int>(hist.size()) < p_.trend_window || !(hist.back() < hist.front())) return;
    const std::string why = "nothing queued, usage of the base blocks " + std::to_string(usage) +
                            " <= " + std::to_string(p_.restore_usage) + " and falling (" +
                            std::to_string(hist.front()) + " -> " + std::to_string(hist.back()) + ")";
    if (cmd.restore(e.id(), now, why, p_.restore_pull))
      for (const Member& m : e.members()) settled_[m.slot] = now + seconds_to_ns(p_.min_dwell_s);
  }

 private:
  PreemptDecision do_on_preempt(const EngineView&, const Request&) override {
    return {PreemptMode::Recompute, "kunserve preempt_method=recompute"};
  }
  KunServeParams p_;
  std::map<int, std::deque<double>> history_;
  std::map<int, SimTime> settled_;  // engine or slot id -> no reconfiguration before
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
  p.grow = f.boolean("grow", p.grow, Help{"a pipeline that votes again grows to a multiple of its stages"});
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
  p.fuse.exchange.interval = seconds_to_ns(f.number(
      "exchange_interval_s", ns_to_seconds(p.fuse.exchange.interval), 0, 60,
      Help{"a what-if: at least this long between two steps that exchange (0: every step, as the reference)"}));
  p.planner.max_group_size = static_cast<int>(f.integer("max_group_size", p.planner.max_group_size, 2, 64,
                                                        Help{"the most stages the planner gives a pipeline"}));
  if (f.has("group_size"))
    p.planner.group_size =
        static_cast<int>(f.integer("group_size", 2, 64,
                                   Help{"a static number of stages for every pipeline (the reference's --group-size)",
                                        "none: the planner picks"}));
  p.planner.growth_tokens =
      static_cast<int>(f.integer("growth_tokens", p.planner.growth_tokens, 0, 1 << 20,
                                 Help{"tokens of decode growth the planner reserves per running request"}));
  if (p.restore_usage >= p.drop_usage)
    throw InputError(f.path_of("restore_usage") + ": must be below drop_usage, or groups would flap");
  return [p] { return std::make_unique<KunServePolicy>(p); };
}

}  // namespace

KUNSIM_REGISTER_POLICY(kunserve, "kunserve",
                       "KunServe: drop replicated weights into KV blocks, fuse instances into pipelines, restore after",
                       make_kunserve);

}  // namespace kunsim
