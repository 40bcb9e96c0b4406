// Topology: the cluster as a directed Boost.Graph. Vertices are GPUs, one host and one NVLink
// switch per node, and the network switch every node group's NICs join; each physical link is two directed edges (full
// duplex), each with its own bandwidth and latency. Routes are shortest paths by
// (latency + time to move 1 MiB), found when a pair is first used and cached per pair, so the
// hot path never searches. Only the pairs used are kept: a table of every pair was 5 GB at
// 10,000 GPUs, and a search stops at its destination, so a GPU's route to its own host costs
// a walk of its node, not of the fleet.
#pragma once
#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/cluster/cluster_spec.hpp"

namespace kunsim {

enum class VertexKind { Gpu, Host, NvSwitch, NetSwitch };
enum class LinkKind { NvLink, Pcie, Network };
const char* link_kind_name(LinkKind k);

struct TopoVertex {
  VertexKind kind;
  int node = 0;
  int gpu = 0;  // global GPU index (GPUs only)
};

struct TopoEdge {
  LinkKind kind;
  double bytes_per_s = 0;
  std::int64_t latency_ns = 0;
  int index = 0;  // dense edge id, for per-link tables
};

using LinkId = int;
using Route = std::vector<LinkId>;

class Topology {
 public:
  explicit Topology(const ClusterSpec& spec);

  int num_gpus() const { return static_cast<int>(gpu_vertices_.size()); }
  int num_links() const { return static_cast<int>(links_.size()); }
  const TopoEdge& link(LinkId id) const { return links_[id]; }
  std::string link_name(LinkId id) const;
  // GPUs and nodes are numbered node group by node group, node by node (ClusterSpec order).
  int gpu_node(int gpu) const { return gpu_node_[gpu]; }
  int num_nodes() const { return static_cast<int>(host_vertices_.size()); }

  const Route& gpu_to_gpu(int src_gpu, int dst_gpu) const;
  const Route& gpu_to_host(int gpu) const;
  const Route& host_to_gpu(int gpu) const;

 private:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, TopoVertex, TopoEdge>;
  const Route& route(std::size_t src_vertex, std::size_t dst_vertex) const;
  void add_duplex(std::size_t a, std::size_t b, LinkKind kind, const LinkParams& p);

  Graph g_;
  std::vector<int> gpu_node_;
  std::vector<std::size_t> gpu_vertices_, host_vertices_;
  std::vector<TopoEdge> links_;
  std::vector<std::pair<std::size_t, std::size_t>> link_ends_;
  mutable std::unordered_map<std::uint64_t, Route> routes_;  // src * V + dst -> its route, on first use
};

}  // namespace kunsim
