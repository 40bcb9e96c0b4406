#include "sim/policy/drop_planner.hpp"

#include <algorithm>
#include <set>

#include "sim/serving/reconfig/kunserve/pipeline_cost.hpp"

namespace kunsim {

nlohmann::json PipelinePlan::to_json() const {
  return {{"demand_blocks", demand},       {"freed_blocks_total", freed}, {"partner_free_blocks", partner_free},
          {"covered", covered},            {"votes", votes},              {"est_step_s", est_step_s},
          {"est_cycle_s", est_cycle_s},    {"est_overhead", est_step_s > 0 ? est_cycle_s / est_step_s - 1 : 0.0}};
}

std::pair<double, double> DropPlanner::estimate(const std::vector<InstanceLoad>& ms) const {
  std::int64_t decodes = 0, ctx_sum = 0;
  std::vector<Member> members;
  for (const auto& m : ms) {
    decodes += m.decodes;
    ctx_sum += m.context_sum;
    members.push_back(c_.engine(m.id)->members()[0]);
  }
  return estimate(*c_.engine(ms.front().id), members, decodes, ctx_sum);
}

std::pair<double, double> DropPlanner::estimate(const EngineView& seed, const std::vector<Member>& members,
                                                std::int64_t decodes, std::int64_t ctx_sum) const {
  const int g = static_cast<int>(members.size());
  // Fewer decodes than stages: padded to one per stage, at their mean context (512 tokens
  // when none decodes yet), so the step it is compared against is not empty.
  if (decodes < g) {
    const std::int64_t mean = decodes > 0 ? ctx_sum / decodes : 512;
    ctx_sum += (g - decodes) * mean;
    decodes = g;
  }
  // A normal member's decode step with its share of the work ...
  BatchShape one;
  one.num_decodes = static_cast<int>(decodes / g);
  one.decode_context_sum = ctx_sum / g;
  one.layers = c_.model().layers;
  one.sampled = one.num_decodes;
  const double step = seed.cost().iteration(one).sum();
  // ... against a pipeline cycle of the whole group's decodes over g stages, priced by the
  // function the group's engine will charge it with.
  const PipelineGeometry geo{g, seed.settings().tp, c_.model().layers, pipeline_links(c_.topology(), members, c_.model())};
  BatchShape all = one;
  all.num_decodes = static_cast<int>(decodes);
  all.decode_context_sum = ctx_sum;
  all.sampled = all.num_decodes;
  return {step, pipeline_cycle_ns(seed.cost(), geo, all, 0) * 1e-9};
}

// Candidate partners for a group seeded on `node`: same node first, then least used (ties:
// lower id).
std::vector<const InstanceLoad*> DropPlanner::partners(const std::vector<InstanceLoad>& loads, const std::set<int>& taken,
                                                       int node) const {
  std::vector<const InstanceLoad*> cands;
  for (const auto& l : loads)
    if (!taken.count(l.id)) cands.push_back(&l);
  std::stable_sort(cands.begin(), cands.end(), [&](auto* a, auto* b) {
    const bool na = node_of(a->id) == node, nb = node_of(b->id) == node;
    if (na != nb) return na;
    const double ua = static_cast<double>(a->used) / a->capacity, ub = static_cast<double>(b->used) / b->capacity;
    return ua != ub ? ua < ub : a->id < b->id;
  });
  return cands;
}

int DropPlanner::node_of(int engine_id) const {
  return c_.topology().gpu_node(c_.engine(engine_id)->members()[0].gpus[0]);
}

PipelinePlan DropPlanner::grow(const InstanceLoad& group, const std::vector<InstanceLoad>& normals,
                            const std::set<int>& taken) const {
  PipelinePlan best;
  const EngineView& e = *c_.engine(group.id);
  const int g = e.stages();
  if (p_.group_size > 0 || g < 2) return best;
  const std::vector<const InstanceLoad*> cands = partners(normals, taken, node_of(group.id));
  for (int k = 2; k * g <= p_.max_group_size && (k - 1) * g <= static_cast<int>(cands.size()); ++k) {
    const int G = k * g;
    PipelinePlan p;
    p.g = G;
    p.ids = {group.id};
    p.votes = g;  // every member of an overloaded group is overloaded
    p.demand = group.demand;
    std::vector<Member> members;
    std::int64_t decodes = group.decodes, ctx_sum = group.context_sum;
    for (int r = 0, next = 0; r < g; ++r) {
      members.push_back(e.members()[r]);
      p.freed -= c_.freed_blocks(group.id, r, g);  // what the member had already freed
      for (int q = 0; q < k - 1; ++q) {
        const InstanceLoad* m = cands[next++];
        p.ids.push_back(m->id);
        p.votes += m->votes;
        p.demand += m->demand;
        if (!m->votes) p.partner_free += m->free;
        decodes += m->decodes;
        ctx_sum += m->context_sum;
        members.push_back(c_.engine(m->id)->members()[0]);
      }
    }
    for (int idx = 0; idx < G; ++idx) p.freed += c_.freed_blocks(group.id, idx, G);
    if (p.votes < G / 2) break;
    p.covered = p.freed + p.partner_free >= p.demand;
    std::tie(p.est_step_s, p.est_cycle_s) = estimate(e, members, decodes, ctx_sum);
    best = p;
    if (p.covered) break;
  }
  return best;
}

std::vector<PipelinePlan> DropPlanner::plan(std::vector<InstanceLoad> loads, std::vector<PipelinePlan>* refused) const {
  std::vector<PipelinePlan> plans;
  std::set<int> used;
  std::vector<const InstanceLoad*> voters;
  for (const auto& l : loads)
    if (l.votes) voters.push_back(&l);
  std::stable_sort(voters.begin(), voters.end(), [](auto* a, auto* b) { return a->demand > b->demand; });
  for (const InstanceLoad* seed : voters) {
    if (used.count(seed->id)) continue;
    std::set<int> taken = used;
    taken.insert(seed->id);
    const std::vector<const InstanceLoad*> cands = partners(loads, taken, node_of(seed->id));
    PipelinePlan best;
    std::string too_slow;  // the g refused for their cycles
    const int g_min = p_.group_size > 0 ? p_.group_size : 2, g_max = p_.group_size > 0 ? p_.group_size : p_.max_group_size;
    for (int g = g_min; g <= g_max && g - 1 <= static_cast<int>(cands.size()); ++g) {
      std::vector<const InstanceLoad*> members{seed};
      members.insert(members.end(), cands.begin(), cands.begin() + (g - 1));
      PipelinePlan p;
      p.g = g;
      for (int r = 0; r < g; ++r) {
        const InstanceLoad* m = members[r];
        p.ids.push_back(m->id);
        p.votes += m->votes;
        p.demand += m->demand;
        p.freed += c_.freed_blocks(seed->id, r, g);
        if (r > 0 && !m->votes) p.partner_free += m->free;
      }
      if (p.votes < g / 2) break;  // the reference's majority rule: votes >= g/2 (integer halves)
      p.covered = p.freed + p.partner_free >= p.demand;
      std::vector<InstanceLoad> ms;
      for (auto* m : members) ms.push_back(*m);
      std::tie(p.est_step_s, p.est_cycle_s) = estimate(ms);
      if (p_.max_cycle_s > 0 && p.est_cycle_s > p_.max_cycle_s) {
        too_slow += (too_slow.empty() ? "" : ", ") + std::string("g=") + std::to_string(g) + " cycle " +
                    std::to_string(p.est_cycle_s) + " s";
        continue;
      }
      best = p;
      if (p.covered) break;
    }
    if (best.g < 2) {
      if (refused && !too_slow.empty()) {
        PipelinePlan no;
        no.ids = {seed->id};
        no.votes = seed->votes;
        no.demand = seed->demand;
        no.refusal = "no group size passes: " + too_slow + " > max_cycle_s " + std::to_string(p_.max_cycle_s);
        refused->push_back(no);
      }
      continue;
    }
    for (int id : best.ids) used.insert(id);
    plans.push_back(best);
  }
  return plans;
}

}  // namespace kunsim
