// ClusterGrowth: the one placement rule of `plan` and `sweep`. A scenario whose instances
// outgrow its cluster gets nodes of the GPU kind that ran short: at once as many as that kind's
// GPUs need, then one more at a time while first-fit placement strands GPUs (an instance never
// spans nodes), up to kMaxClusterNodes. `kunsim run` takes the cluster as given and refuses.
#pragma once
#include <string>
#include <vector>

#include "run/scenario.hpp"

namespace kunsim {

struct GrownScenario {
  Json json;  // the scenario as grown: what runs
  Scenario scenario;
  std::vector<std::string> added;  // each node count raised, as "cluster.nodes 1 -> 13"
};

// Validates `j`, adding nodes where placement falls short. Any other input error is thrown as is.
GrownScenario scenario_adding_nodes(Json j, const TracePaths& paths);

}  // namespace kunsim
