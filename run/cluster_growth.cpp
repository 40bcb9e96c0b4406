#include "run/cluster_growth.hpp"

#include <algorithm>
#include <map>

namespace kunsim {

GrownScenario scenario_adding_nodes(Json j, const TracePaths& paths) {
  std::map<std::string, std::pair<long long, long long>> raised;  // key: nodes at first, nodes now
  for (;;) {
    try {
      GrownScenario g{j, scenario_from_json(j, paths), {}};
      for (const auto& [key, counts] : raised)
        g.added.push_back(key + " " + std::to_string(counts.first) + " -> " + std::to_string(counts.second));
      return g;
    } catch (const PlacementShortfall& e) {
      static const Json kEmpty = Json::object();
      const ClusterSpec cluster = cluster_from_json(j.contains("cluster") ? j["cluster"] : kEmpty, "cluster");
      const std::vector<NodeGroupSpec> kinds = cluster.node_groups();
      const auto it =
          std::find_if(kinds.begin(), kinds.end(), [&](const NodeGroupSpec& k) { return k.gpu.name == e.gpu_kind; });
      if (it == kinds.end()) throw;
      const auto index = static_cast<std::size_t>(it - kinds.begin());
      const bool listed = j.contains("cluster") && j["cluster"].contains("node_groups");
      const std::string key = listed ? "cluster.node_groups." + std::to_string(index) + ".nodes" : "cluster.nodes";
      const long long per_node = it->gpus_per_node;
      const long long want = std::max<long long>(it->nodes + 1, (e.gpus_needed + per_node - 1) / per_node);
      if (want > kMaxClusterNodes)
        throw InputError(std::string(e.what()) + "; " + std::to_string(want) + " nodes of " + e.gpu_kind +
                         " would be needed, past the " + std::to_string(kMaxClusterNodes) + " a cluster may have");
      raised.try_emplace(key, it->nodes, want).first->second.second = want;
      apply_override(j, key + "=" + std::to_string(want));
    }
  }
}

}  // namespace kunsim
