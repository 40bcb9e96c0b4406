// ClusterSpec: the hardware of a scenario's `cluster` section. Nodes come in node groups, each
// of one GPU kind: GPUs per node, per-link-kind bandwidth (bytes/s, per direction) and latency,
// host memory and price, with defaults from the GPU kind. The single form (`cluster.gpu`,
// `nodes`, `gpus_per_node`) is one node group; `cluster.node_groups` lists several, so an A100
// rack and an H100 rack can serve one model side by side. One network switch joins every node.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/core/json_fields.hpp"

namespace kunsim {

// The most nodes of one kind a cluster may have (cluster.nodes; plan's searches stay within it).
inline constexpr int kMaxClusterNodes = 4096;

struct LinkParams {
  double bytes_per_s = 0;
  std::int64_t latency_ns = 0;
};

struct NodeGroupSpec {
  GpuSpec gpu;
  int nodes = 1;
  int gpus_per_node = 8;
  LinkParams nvlink;   // GPU <-> node switch
  LinkParams pcie;     // GPU <-> host memory
  LinkParams network;  // GPU NIC <-> network switch
  double host_memory_bytes = 0;  // per node, for swapped KV
  // $ per GPU-hour for this GPU kind (`cluster.price_per_gpu_hour`: a number, or a map by GPU
  // kind that must name every kind in the cluster); unset when the scenario gives none.
  std::optional<double> price_per_gpu_hour;

  int group_gpus() const { return nodes * gpus_per_node; }
};

// The first node group is the spec itself (what single-kind code and tests read: `gpu`,
// `nvlink`, ...); `more_node_groups` holds the rest of `cluster.node_groups`.
struct ClusterSpec : NodeGroupSpec {
  std::vector<NodeGroupSpec> more_node_groups;

  // Every node group in order; GPUs and nodes are numbered through them in this order.
  std::vector<NodeGroupSpec> node_groups() const;
  int total_gpus() const;
  int total_nodes() const;
  bool single_kind() const;
};

ClusterSpec cluster_from_json(const Json& j, const std::string& path);

}  // namespace kunsim
