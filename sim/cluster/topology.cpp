#include "sim/cluster/topology.hpp"

#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/property_map/property_map.hpp>
#include <boost/property_map/transform_value_property_map.hpp>

#include <cassert>
#include <stdexcept>

namespace kunsim {

const char* link_kind_name(LinkKind k) {
  switch (k) {
    case LinkKind::NvLink: return "nvlink";
    case LinkKind::Pcie: return "pcie";
    case LinkKind::Network: return "net";
  }
  return "?";
}

Topology::Topology(const ClusterSpec& spec) {
  const auto net = boost::add_vertex(TopoVertex{VertexKind::NetSwitch, -1, 0}, g_);
  for (const NodeGroupSpec& kind : spec.node_groups()) {
    for (int i = 0; i < kind.nodes; ++i) {
      const int n = static_cast<int>(host_vertices_.size());
      const auto host = boost::add_vertex(TopoVertex{VertexKind::Host, n, 0}, g_);
      const auto nvs = boost::add_vertex(TopoVertex{VertexKind::NvSwitch, n, 0}, g_);
      host_vertices_.push_back(host);
      for (int l = 0; l < kind.gpus_per_node; ++l) {
        const int id = static_cast<int>(gpu_vertices_.size());
        const auto gpu = boost::add_vertex(TopoVertex{VertexKind::Gpu, n, id}, g_);
        gpu_vertices_.push_back(gpu);
        gpu_node_.push_back(n);
        add_duplex(gpu, nvs, LinkKind::NvLink, kind.nvlink);
        add_duplex(gpu, host, LinkKind::Pcie, kind.pcie);
        add_duplex(gpu, net, LinkKind::Network, kind.network);
      }
    }
  }
}

void Topology::add_duplex(std::size_t a, std::size_t b, LinkKind kind, const LinkParams& p) {
  for (auto [s, d] : {std::pair{a, b}, std::pair{b, a}}) {
    const int id = static_cast<int>(links_.size());
    TopoEdge e{kind, p.bytes_per_s, p.latency_ns, id};
    boost::add_edge(s, d, e, g_);
    links_.push_back(e);
    link_ends_.emplace_back(s, d);
  }
}

std::string Topology::link_name(LinkId id) const {
  auto name = [&](std::size_t v) {
    const TopoVertex& x = g_[v];
    switch (x.kind) {
      case VertexKind::Gpu: return "gpu" + std::to_string(x.gpu);
      case VertexKind::Host: return "host" + std::to_string(x.node);
      case VertexKind::NvSwitch: return "nvswitch" + std::to_string(x.node);
      case VertexKind::NetSwitch: return std::string("netswitch");
    }
    return std::string("?");
  };
  return std::string(link_kind_name(links_[id].kind)) + ":" + name(link_ends_[id].first) + "->" +
         name(link_ends_[id].second);
}

namespace {
// Ends a search once its destination is settled: its distance, and the path to it, are final.
struct Arrived {};
struct StopAt : boost::default_dijkstra_visitor {
  std::size_t dst;
  template <class Graph>
  void examine_vertex(std::size_t v, const Graph&) const {
    if (v == dst) throw Arrived{};
  }
};
}  // namespace

const Route& Topology::route(std::size_t src, std::size_t dst) const {
  const std::size_t v = boost::num_vertices(g_);
  const auto [slot, added] = routes_.try_emplace(static_cast<std::uint64_t>(src) * v + dst);
  if (!added) return slot->second;
  std::vector<std::size_t> pred(v);
  std::vector<double> dist(v);
  constexpr double kRefBytes = 1024.0 * 1024.0;
  auto weight = boost::make_transform_value_property_map(
      [](const TopoEdge& e) { return static_cast<double>(e.latency_ns) + 1e9 * kRefBytes / e.bytes_per_s; },
      boost::get(boost::edge_bundle, g_));
  try {
    StopAt stop;
    stop.dst = dst;
    boost::dijkstra_shortest_paths(
        g_, src, boost::predecessor_map(pred.data()).distance_map(dist.data()).weight_map(weight).visitor(stop));
  } catch (const Arrived&) {
  }
  Route r;
  for (std::size_t at = dst; at != src;) {
    const std::size_t from = pred[at];
    if (from == at) throw std::logic_error("topology: no route");  // every vertex is connected
    const auto [e, ok] = boost::edge(from, at, g_);
    assert(ok);
    r.push_back(g_[e].index);
    at = from;
  }
  slot->second.assign(r.rbegin(), r.rend());
  return slot->second;
}

const Route& Topology::gpu_to_gpu(int s, int d) const { return route(gpu_vertices_.at(s), gpu_vertices_.at(d)); }
const Route& Topology::gpu_to_host(int gpu) const {
  return route(gpu_vertices_.at(gpu), host_vertices_.at(gpu_node(gpu)));
}
const Route& Topology::host_to_gpu(int gpu) const {
  return route(host_vertices_.at(gpu_node(gpu)), gpu_vertices_.at(gpu));
}

}  // namespace kunsim
