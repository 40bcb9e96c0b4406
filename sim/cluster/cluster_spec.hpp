// ClusterSpec: the hardware of a scenario's `cluster` section: GPU kind, nodes, GPUs per node,
// and per-link-kind bandwidth (bytes/s, per direction) and latency. Defaults come from the GPU kind.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/core/json_fields.hpp"

namespace kunsim {

struct LinkParams {
  double bytes_per_s = 0;
  std::int64_t latency_ns = 0;
};

struct ClusterSpec {
  GpuSpec gpu;
  int nodes = 1;
  int gpus_per_node = 8;
  LinkParams nvlink;   // GPU <-> node switch
  LinkParams pcie;     // GPU <-> host memory
  LinkParams network;  // GPU NIC <-> network switch
  double host_memory_bytes = 0;  // per node, for swapped KV
  // $ per GPU-hour for this cluster's GPU kind (`price_per_gpu_hour`: a number, or a map by GPU
  // kind that must name this one); unset when the scenario gives none.
  std::optional<double> price_per_gpu_hour;

  int total_gpus() const { return nodes * gpus_per_node; }
};

ClusterSpec cluster_from_json(const Json& j, const std::string& path);

}  // namespace kunsim
