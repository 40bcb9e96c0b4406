// llumnix: Llumnix's load balancing by live migration. Freeness of an instance is its free KV
// minus what its queue needs, per running request (Llumnix's virtual usage, in blocks).
// Arrivals go to the freest instance. Every check_interval_s the least free instance, when
// its freeness is below migrate_out_freeness (it queues or is about to preempt), sends one
// decoding request, the one with the least KV (cheapest to move), to the freest instance when
// that one's freeness is above migrate_in_freeness. The KV is copied while the request keeps
// decoding; only the blocks written meanwhile move in a short final stage
// (ServingCluster::migrate). On a fleet, each instance group balances itself (migrations_per_tick
// each); arrivals go to the freest instance of any group taking arrivals. Preemption
// recomputes, as vLLM's does.
#include <limits>

#include "sim/policy/policy_registry.hpp"

namespace kunsim {
namespace {

struct LlumnixParams {
  double check_interval_s = 0.1;
  double migrate_out_freeness = 0.0;
  double migrate_in_freeness = 20.0;
  int migrations_per_tick = 2;
};

double freeness(const EngineView& e, SimTime now) {
  const EngineView::KvLoad l = e.kv_load_at(now);
  const double free = static_cast<double>(l.capacity - l.used - l.queued);
  return free / std::max(1, e.running());
}

class LlumnixPolicy final : public MemoryOverloadPolicy {
 public:
  explicit LlumnixPolicy(LlumnixParams p) : p_(p) {}
  std::string name() const override { return "llumnix"; }
  SimDuration tick_interval() const override { return seconds_to_ns(p_.check_interval_s); }

  int do_pick_engine(const ClusterView& c, const Request&, SimTime now) override {
    const auto& engines = c.dispatchable();
    int best = 0;
    double best_f = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < engines.size(); ++i) {
      const double f = freeness(*engines[i], now);
      if (f > best_f) {
        best_f = f;
        best = static_cast<int>(i);
      }
    }
    return best;
  }

  void do_on_tick(const ClusterView& c, ClusterCommands& cmd, SimTime now) override {
    // Migrations stay within an instance group (the same GPU kind, TP and engine).
    for (int g = 0; g < static_cast<int>(c.instance_groups()); ++g) migrate_within(c, cmd, g, now);
  }

  void migrate_within(const ClusterView& c, ClusterCommands& cmd, int group, SimTime now) {
    for (int n = 0; n < p_.migrations_per_tick; ++n) {
      const EngineView *src = nullptr, *dst = nullptr;
      double fs = std::numeric_limits<double>::infinity(), fd = -fs;
      for (const EngineView* e : c.engines()) {
        if (e->instance_group() != group || c.reconfiguring(e->id()) || e->stages() != 1) continue;
        const double f = freeness(*e, now);
        if (f < fs && e->decoding() > 1) fs = f, src = e;
        if (f > fd) fd = f, dst = e;
      }
      if (!src || !dst || src == dst || fs >= p_.migrate_out_freeness || fd <= p_.migrate_in_freeness) return;
      // The decoding request with the least KV: the cheapest to move.
      const Request* pick = nullptr;
      src->each_request([&](const Request& r) {
        if (r.phase == Phase::Decode && !r.stale() && (!pick || r.blocks < pick->blocks)) pick = &r;
      });
      if (!pick || !cmd.migrate(src->id(), pick->id, dst->id(), now)) return;
    }
  }

 private:
  PreemptDecision do_on_preempt(const EngineView&, const Request&) override {
    return {PreemptMode::Recompute, "llumnix (vLLM engine) preemption_mode=recompute"};
  }
  LlumnixParams p_;
};

PolicyMaker make_llumnix(JsonFields& f) {
  LlumnixParams p;
  p.check_interval_s =
      f.number("check_interval_s", p.check_interval_s, 1e-3, 60, Help{"seconds between migration checks"});
  p.migrate_out_freeness = f.number("migrate_out_freeness", p.migrate_out_freeness, -1e9, 1e9,
                                    Help{"an instance below this freeness migrates a request out"});
  p.migrate_in_freeness = f.number("migrate_in_freeness", p.migrate_in_freeness, -1e9, 1e9,
                                   Help{"an instance above this freeness takes migrated requests"});
  p.migrations_per_tick = static_cast<int>(f.integer("migrations_per_tick", p.migrations_per_tick, 1, 64,
                                                     Help{"migrations started per check and instance group"}));
  return [p] { return std::make_unique<LlumnixPolicy>(p); };
}

}  // namespace

KUNSIM_REGISTER_POLICY(llumnix, "llumnix",
                       "Llumnix: freeness-based dispatch and live migration of decoding requests with their KV",
                       make_llumnix);

}  // namespace kunsim
