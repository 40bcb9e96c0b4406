#include "sim/metrics/run_summary.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/core/version.hpp"
#include "sim/metrics/distribution.hpp"

namespace kunsim {
namespace {

double round6(double x) { return std::round(x * 1e6) / 1e6; }

double fraction(SimDuration part, SimTime end) {
  return end > kSimTimeZero ? round6(static_cast<double>(part.ns()) / static_cast<double>(end.ns())) : 0.0;
}

// One deployment instance (slot): its share of the work by SlotLedger's rule, and the engine
// serving it at the end (itself, or the pipeline group it is a stage of).
nlohmann::json instance_json(int slot, const SlotFigures& f, const Engine& e, int member, SimTime end) {
  std::vector<int> slots;
  for (const Member& m : e.members()) slots.push_back(m.slot);
  const EngineCounters& c = f.credited;
  return {{"id", slot},
          {"group", e.context().group},
          {"engine", e.id()},
          {"slots", slots},
          {"stage", member},
          {"stages", e.stages()},
          {"gpus", e.gpus()},
          {"iterations", c.iterations},
          {"fused_iterations", f.fused_iterations},
          {"decode_jumps", c.jumps},
          {"jumped_steps", c.jumped_steps},
          {"busy_s", round6(ns_to_seconds(c.busy_ns))},
          {"busy_fraction", fraction(c.busy_ns, end)},
          {"fused_busy_fraction", fraction(f.fused_busy, end)},
          {"peak_kv_blocks", e.kv().peak_used()},
          {"kv_capacity", e.kv().capacity()},
          {"preemptions", c.preemptions},
          {"recomputes", c.recomputes},
          {"swaps_out", c.swaps_out}};
}

// The rows must add up to the run's totals (SlotLedger's rule); a miscount is kunsim's bug.
void check_rows_add_up(const std::vector<SlotFigures>& rows, const EngineCounters& total) {
  EngineCounters sum;
  for (const SlotFigures& f : rows) sum += f.credited;
  if (sum.iterations != total.iterations || sum.jumps != total.jumps || sum.jumped_steps != total.jumped_steps ||
      sum.preemptions != total.preemptions || sum.recomputes != total.recomputes || sum.swaps_out != total.swaps_out ||
      sum.busy_ns != total.busy_ns)
    throw std::logic_error("run summary: instances[] do not add up to the run's totals (" +
                           std::to_string(sum.iterations) + " of " + std::to_string(total.iterations) + " iterations)");
}

}  // namespace

nlohmann::json run_summary(const RunFacts& f, const RequestMetrics& metrics, const DecisionLog& decisions,
                           const ServingCluster& cluster) {
  nlohmann::json j;
  j["scenario"] = f.scenario;
  j["kunsim"] = {{"version", kunsim_version()}, {"git", kunsim_git_describe()}};
  j["seed"] = f.seed;
  j["policy"] = f.policy;
  j["model"] = f.model;
  j["cost_model"] = f.cost_model;
  j["cost_source"] = f.cost_source;
  j["workload"] = {{"source", f.workload}, {"skipped_rows", f.skipped_rows}, {"clipped_samples", f.clipped_samples}};
  if (!f.rate_scale_effect.empty()) {
    j["workload"]["rate_scale"] = f.rate_scale;
    j["workload"]["rate_scale_effect"] = f.rate_scale_effect;
  }
  const nlohmann::json req = metrics.summary_json();
  for (auto it = req.begin(); it != req.end(); ++it) j[it.key()] = it.value();

  const EngineCounters total = cluster.total_counters();
  const std::vector<SlotFigures> rows = cluster.slot_figures();
  check_rows_add_up(rows, total);  // once per run, over the slots: cheap enough for every build
  nlohmann::json per = nlohmann::json::array();
  double peak = 0;
  for (const Engine* e : cluster.engine_list())
    peak = std::max(peak, static_cast<double>(e->kv().peak_used()) / static_cast<double>(e->kv().capacity()));
  for (int s = 0; s < cluster.num_slots(); ++s) {
    const auto [engine, member] = cluster.slot(s);
    per.push_back(instance_json(s, rows[static_cast<std::size_t>(s)], *engine, member, f.end));
  }
  nlohmann::json kinds = nlohmann::json::object();
  for (const auto& [k, n] : decisions.counts()) kinds[k] = n;
  // A drop is its one row; with policy.drop_latency_s a "done" row follows it.
  j["planner"] = {{"drops", decisions.count(DecisionKind::Drop, DecisionPhase::None)},
                  {"grows", decisions.count(DecisionKind::Grow, DecisionPhase::Begin)},
                  {"restores", decisions.count(DecisionKind::Restore, DecisionPhase::Split)},
                  {"migrations", decisions.count(DecisionKind::Migrate, DecisionPhase::Begin)},
                  {"preemptions", total.preemptions},
                  {"recomputes", total.recomputes},
                  {"swaps_out", total.swaps_out},
                  {"swaps_in", total.swaps_in},
                  {"rejects", f.rejects},
                  {"decisions", kinds}};
  // KunServe: each request running at a drop, the gap to its first token after it (under
  // stall-exchange, its stall until its KV was exchanged).
  if (!metrics.drop_gaps().empty()) {
    j["planner"]["drop_stall_s"] = summarize(metrics.drop_gaps()).to_json();
    j["planner"]["drop_stall_requests"] = metrics.drop_gaps().size();
  }
  // Automatic prefix caching: the prompt tokens asked to prefill at each admission (again
  // after a recompute) and those found cached, as vLLM's prefix-cache hit rate counts them.
  const auto queried = total.prefix_queried_tokens;
  j["prefix_cache"] = {{"enabled", f.prefix_caching},
                       {"prompt_tokens", queried},
                       {"hit_tokens", total.prefix_hit_tokens},
                       {"hit_rate", queried ? round6(static_cast<double>(total.prefix_hit_tokens) / static_cast<double>(queried)) : 0.0},
                       {"hit_blocks", total.prefix_hit_blocks},
                       {"evicted_blocks", total.prefix_evicted_blocks}};
  if (!f.speculative.is_null()) {
    // What the decodes got: tokens a step (1 + drafts accepted), and of the time of the work
    // that verified drafts, the share the proposer took and the target's verifying forward.
    nlohmann::json s = f.speculative;
    const auto steps = static_cast<double>(total.decode_steps);
    const double per_step = steps > 0 ? static_cast<double>(total.emitted_tokens) / steps : 0.0;
    const auto speculating = static_cast<double>(total.speculating_ns.ns());
    const double draft = speculating > 0 ? static_cast<double>(total.draft_ns.ns()) / speculating : 0.0;
    s["decode_steps"] = total.decode_steps;
    s["emitted_tokens"] = total.emitted_tokens;
    s["tokens_per_step"] = round6(per_step);
    s["accepted_drafts_per_step"] = round6(steps > 0 ? per_step - 1.0 : 0.0);
    s["proposer_share_of_step_time"] = round6(draft);
    s["verification_share_of_step_time"] = round6(speculating > 0 ? 1.0 - draft : 0.0);
    j["speculative"] = s;
  }
  const MemoryPlan& m = *f.memory;
  const double gib = static_cast<double>(kGiB);
  j["memory"] = {{"gpu_gib", round6(static_cast<double>(m.gpu_bytes) / gib)},
                 {"weights_gib_per_gpu", round6(static_cast<double>(m.weight_bytes) / gib)},
                 {"workspace_gib_per_gpu", round6(static_cast<double>(m.workspace_bytes) / gib)},
                 {"kv_gib_per_gpu", round6(static_cast<double>(m.kv_bytes) / gib)},
                 {"block_tokens", f.block_size},
                 {"blocks_per_instance", m.num_blocks},
                 {"peak_kv_usage", round6(peak)}};
  j["instances"] = per;
  // Fleets: the instance groups, and the prefill -> decode hand-offs of a disaggregated one.
  if (f.groups.size() > 1 || cluster.handoffs()) {
    nlohmann::json groups = f.groups;
    double dollars = 0;
    bool priced = true;
    for (auto& g : groups) {
      if (!g.contains("dollars_per_hour")) priced = false;
      else dollars += g["dollars_per_hour"].get<double>();
    }
    j["groups"] = groups;
    if (priced) j["fleet_dollars_per_hour"] = round6(dollars);
  }
  if (const KvHandoffs* h = cluster.handoffs()) {
    const HandoffStats& s = h->stats();
    j["handoff"] = {{"handoffs", s.handoffs},
                    {"waited_for_room", s.waited},
                    {"aborted_in_transfer", s.aborted},
                    {"gib_moved", round6(static_cast<double>(s.bytes) / gib)},
                    {"wait_s", summarize(s.wait_s).to_json()},
                    {"transfer_s", summarize(s.transfer_s).to_json()}};
  }
  const double simulated = ns_to_seconds(f.end), wall = f.wall_s;
  const auto events = static_cast<double>(f.events);
  j["sim"] = {{"events", f.events},
              {"iterations", total.iterations},
              {"decode_jumps", total.jumps},
              {"jumped_steps", total.jumped_steps},
              {"simulated_s", round6(simulated)},
              {"wall_s", round6(wall)},
              {"events_per_s", wall > 0 ? std::round(events / wall) : 0.0},
              {"requests_per_wall_s", wall > 0 ? std::round(static_cast<double>(metrics.arrived()) / wall) : 0.0},
              {"realtime_factor", wall > 0 ? round6(simulated / wall) : 0.0}};
  return j;
}

}  // namespace kunsim
