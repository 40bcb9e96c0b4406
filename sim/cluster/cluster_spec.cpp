#include "sim/cluster/cluster_spec.hpp"

namespace kunsim {
namespace {

LinkParams link_from_json(const Json* j, const std::string& path, double dflt_gbps, double dflt_latency_us) {
  LinkParams l{dflt_gbps * 1e9, static_cast<std::int64_t>(dflt_latency_us * 1000)};
  if (!j) return l;
  JsonFields f(*j, path);
  l.bytes_per_s =
      f.number("gb_per_s", dflt_gbps, 1e-3, 1e5, Help{"link bandwidth, GB/s per direction", "the GPU kind's"}) * 1e9;
  l.latency_ns = static_cast<std::int64_t>(
      f.number("latency_us", dflt_latency_us, 0, 1e6, Help{"per-transfer latency, microseconds"}) * 1000);
  f.finish();
  return l;
}

// The keys of one node group (the whole `cluster` section in the single form).
NodeGroupSpec node_group_from(JsonFields& f) {
  NodeGroupSpec c;
  c.gpu = find_gpu(f.string("gpu", "h100-sxm", Help{"GPU kind (kunsim list gpus)"}), f.path_of("gpu"));
  c.nodes = static_cast<int>(f.integer("nodes", 1, 1, kMaxClusterNodes, Help{"nodes of this kind"}));
  c.gpus_per_node = static_cast<int>(f.integer("gpus_per_node", 8, 1, 64, Help{"GPUs per node"}));
  if (f.has("gpu_memory_gib"))
    c.gpu.memory_bytes = static_cast<std::int64_t>(
        f.number("gpu_memory_gib", 1, 4096,
                 Help{"memory per GPU as CUDA reports it, GiB", "the GPU kind's (h100-sxm: 79.11)"}) *
        1024 * 1024 * 1024);
  c.nvlink = link_from_json(f.child("nvlink", Help{"GPU-to-GPU link within a node {gb_per_s, latency_us}"}),
                            f.path_of("nvlink"), c.gpu.nvlink_bytes_per_s / 1e9, 2);
  c.pcie = link_from_json(f.child("pcie", Help{"GPU-to-host link {gb_per_s, latency_us}"}), f.path_of("pcie"),
                          c.gpu.pcie_bytes_per_s / 1e9, 5);
  c.network = link_from_json(f.child("network", Help{"node-to-node link {gb_per_s, latency_us}"}), f.path_of("network"),
                             c.gpu.nic_bytes_per_s / 1e9, 5);
  c.host_memory_bytes =
      f.number("host_memory_gib", 1024, 0, 1 << 20, Help{"host memory per node, GiB"}) * 1024.0 * 1024 * 1024;
  return c;
}

// `price_per_gpu_hour`: one number for every kind, or a map by kind naming each kind present.
// A price per GPU-hour: a zero one would make every cost 0 and look like a free answer.
double price(const Json& j, const std::string& path) {
  const double v = json_number(j, path, 0, 1e6);
  if (v == 0)
    throw InputError(path +
                     ": a price of 0 makes every dollar figure 0; leave price_per_gpu_hour out for a run "
                     "without costs");
  return v;
}

void read_prices(const Json& pj, const std::string& pp, std::vector<NodeGroupSpec*> groups) {
  if (!pj.is_object()) {
    const double v = price(pj, pp);
    for (NodeGroupSpec* g : groups) g->price_per_gpu_hour = v;
    return;
  }
  for (auto it = pj.begin(); it != pj.end(); ++it) {
    find_gpu(it.key(), pp + "." + it.key());  // every key must be a known GPU kind
    const double v = price(it.value(), pp + "." + it.key());
    for (NodeGroupSpec* g : groups)
      if (it.key() == g->gpu.name) g->price_per_gpu_hour = v;
  }
  for (const NodeGroupSpec* g : groups)
    if (!g->price_per_gpu_hour) throw InputError(pp + ": no price for the cluster's GPU kind " + g->gpu.name);
}

}  // namespace

std::vector<NodeGroupSpec> ClusterSpec::node_groups() const {
  std::vector<NodeGroupSpec> out{static_cast<const NodeGroupSpec&>(*this)};
  out.insert(out.end(), more_node_groups.begin(), more_node_groups.end());
  return out;
}

int ClusterSpec::total_gpus() const {
  int n = group_gpus();
  for (const auto& g : more_node_groups) n += g.group_gpus();
  return n;
}

int ClusterSpec::total_nodes() const {
  int n = nodes;
  for (const auto& g : more_node_groups) n += g.nodes;
  return n;
}

bool ClusterSpec::single_kind() const {
  for (const auto& g : more_node_groups)
    if (g.gpu.name != gpu.name) return false;
  return true;
}

ClusterSpec cluster_from_json(const Json& j, const std::string& path) {
  JsonFields f(j, path);
  ClusterSpec c;
  if (const Json* ng = f.child("node_groups",
                               Help{"several GPU kinds: [{gpu, nodes, gpus_per_node, gpu_memory_gib, nvlink, pcie, "
                                    "network, host_memory_gib}] instead of the keys above"},
                               "array")) {
    const std::string np = f.path_of("node_groups");
    for (const char* single : {"gpu", "nodes", "gpus_per_node", "gpu_memory_gib", "nvlink", "pcie", "network",
                               "host_memory_gib"})
      if (f.has(single))
        throw InputError(f.path_of(single) + ": give it inside each of cluster.node_groups (the two forms do not mix)");
    if (!ng->is_array() || ng->empty()) throw InputError(np + ": expected a non-empty list of node groups");
    for (std::size_t i = 0; i < ng->size(); ++i) {
      JsonFields gf((*ng)[i], np + "." + std::to_string(i));
      NodeGroupSpec g = node_group_from(gf);
      gf.finish();
      if (i == 0) static_cast<NodeGroupSpec&>(c) = g;
      else c.more_node_groups.push_back(g);
    }
  } else {
    static_cast<NodeGroupSpec&>(c) = node_group_from(f);
  }
  if (const Json* pj = f.child(
          "price_per_gpu_hour",
          Help{"dollars per GPU-hour: a number, or a map by GPU kind naming every kind present (plan and the summary)"},
          "number or object")) {
    std::vector<NodeGroupSpec*> groups{&c};
    for (auto& g : c.more_node_groups) groups.push_back(&g);
    read_prices(*pj, f.path_of("price_per_gpu_hour"), groups);
  }
  f.finish();
  return c;
}

}  // namespace kunsim
