#include "sim/cluster/cluster_spec.hpp"

namespace kunsim {
namespace {

LinkParams link_from_json(const Json* j, const std::string& path, double dflt_gbps, double dflt_latency_us) {
  LinkParams l{dflt_gbps * 1e9, static_cast<std::int64_t>(dflt_latency_us * 1000)};
  if (!j) return l;
  JsonFields f(*j, path);
  l.bytes_per_s = f.number("gb_per_s", dflt_gbps, 1e-3, 1e5) * 1e9;
  l.latency_ns = static_cast<std::int64_t>(f.number("latency_us", dflt_latency_us, 0, 1e6) * 1000);
  f.finish();
  return l;
}

}  // namespace

ClusterSpec cluster_from_json(const Json& j, const std::string& path) {
  JsonFields f(j, path);
  ClusterSpec c;
  c.gpu = find_gpu(f.string("gpu", "h100-sxm"), f.path_of("gpu"));
  c.nodes = static_cast<int>(f.integer("nodes", 1, 1, 4096));
  c.gpus_per_node = static_cast<int>(f.integer("gpus_per_node", 8, 1, 64));
  if (f.has("gpu_memory_gib"))
    c.gpu.memory_bytes = static_cast<std::int64_t>(f.number("gpu_memory_gib", 1, 4096) * 1024 * 1024 * 1024);
  c.nvlink = link_from_json(f.child("nvlink"), f.path_of("nvlink"), c.gpu.nvlink_bytes_per_s / 1e9, 2);
  c.pcie = link_from_json(f.child("pcie"), f.path_of("pcie"), c.gpu.pcie_bytes_per_s / 1e9, 5);
  c.network = link_from_json(f.child("network"), f.path_of("network"), c.gpu.nic_bytes_per_s / 1e9, 5);
  c.host_memory_bytes = f.number("host_memory_gib", 1024, 0, 1 << 20) * 1024.0 * 1024 * 1024;
  if (const Json* pj = f.child("price_per_gpu_hour")) {
    const std::string pp = f.path_of("price_per_gpu_hour");
    if (pj->is_object()) {
      for (auto it = pj->begin(); it != pj->end(); ++it) {
        find_gpu(it.key(), pp + "." + it.key());  // every key must be a known GPU kind
        const double v = json_number(it.value(), pp + "." + it.key(), 0, 1e6);
        if (it.key() == c.gpu.name) c.price_per_gpu_hour = v;
      }
      if (!c.price_per_gpu_hour) throw InputError(pp + ": no price for this cluster's GPU kind " + c.gpu.name);
    } else {
      c.price_per_gpu_hour = json_number(*pj, pp, 0, 1e6);
    }
  }
  f.finish();
  return c;
}

}  // namespace kunsim
