// DropPlanner: KunServe's choice of which instances fuse into pipeline groups, and how many
// (g) in each. kunsim's documented greedy, O(N log N) in the instances:
//   1. demand of an instance = blocks its queue needs beyond what is free, plus the growth of
//      its running decodes over the next `growth_tokens` tokens;
//   2. voting instances, most demand first, each seed a group; for g = 2 .. max_group_size,
//      partners are the unused normal instances cheapest to pipeline with (same node first,
//      then least KV usage), keeping the reference's majority rule (votes >= g/2);
//   3. the smallest g whose freed weight blocks plus the partners' free blocks cover the
//      group's demand wins (a larger g frees more but pays more pipeline overhead); if none
//      covers it, the largest allowed g is taken. A static group_size skips the choice: every
//      group has that g (when enough instances and votes are there);
//   4. each plan carries its estimated overhead from the cost model: a pipeline cycle over
//      the group's stages with activations on the actual route, against a normal step. A g
//      whose cycle (one token of every decode in the group) would exceed max_cycle_s (the
//      scenario's TPOT SLO unless set) is not a candidate: that is the plan's balance between
//      memory and cooperative execution's overhead. A seed no g passes for is not fused; the
//      plan comes back refused, with why.
// Growth: a fused group of g stages that votes again grows to g' = k*g (k >= 2, up to
// max_group_size; each old stage splits among its member and k-1 partners, so members drop
// more layers and pull none back). Partners are chosen as in step 2, from the instances no new
// group took; the group's g members count as g votes in the majority rule; the smallest k whose
// extra freed blocks (every member's, old and new) plus the partners' free blocks cover the
// group's demand wins, else the largest allowed. A static group_size never grows.
#pragma once
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/serving/fleet/cluster_view.hpp"

namespace kunsim {

struct InstanceLoad {
  int id = 0;
  std::int64_t capacity = 0, used = 0, free = 0, queued = 0, decodes = 0;
  std::int64_t context_sum = 0;
  bool votes = false;
  std::int64_t demand = 0;
};

struct PipelinePlan {
  std::vector<int> ids;  // seed first
  int g = 0;
  int votes = 0;
  std::int64_t demand = 0, freed = 0, partner_free = 0;
  bool covered = false;
  double est_step_s = 0, est_cycle_s = 0;
  std::string refusal;  // a refused plan (g == 0, ids = the seed): why no g was allowed
  nlohmann::json to_json() const;
};

struct DropPlannerParams {
  int max_group_size = 4;
  int group_size = 0;  // a static g for every group (the reference's --group-size); 0: chosen as above
  int growth_tokens = 64;
  double max_cycle_s = 0;  // the longest estimated pipeline cycle allowed (0: any)
};

class DropPlanner {
 public:
  DropPlanner(const ClusterView& cluster, DropPlannerParams p) : c_(cluster), p_(p) {}
  // The groups to fuse; seeds for which no g passes max_cycle_s go to `refused` (if given).
  std::vector<PipelinePlan> plan(std::vector<InstanceLoad> loads, std::vector<PipelinePlan>* refused = nullptr) const;
  // Growth of the group whose load is `group` (its id, g = its stages) by normal instances from
  // `normals` not in `taken`. The plan's ids: the group first, then the partners in the order
  // ClusterCommands::grow takes them; g is g'. None (g == 0) when no growth is allowed.
  PipelinePlan grow(const InstanceLoad& group, const std::vector<InstanceLoad>& normals, const std::set<int>& taken) const;
  // Cost-model estimates for a group: (normal decode step, pipeline cycle), seconds.
  std::pair<double, double> estimate(const std::vector<InstanceLoad>& members) const;
  // The same for `members` (of the instance group whose context is `ctx`) in stage order
  // serving `decodes` decodes of `context_sum` tokens.
  std::pair<double, double> estimate(const EngineView& seed, const std::vector<Member>& members,
                                     std::int64_t decodes, std::int64_t context_sum) const;

 private:
  std::vector<const InstanceLoad*> partners(const std::vector<InstanceLoad>& loads, const std::set<int>& taken,
                                            int node) const;
  int node_of(int engine_id) const;
  const ClusterView& c_;
  DropPlannerParams p_;
};

}  // namespace kunsim
