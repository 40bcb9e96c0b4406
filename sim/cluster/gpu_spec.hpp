// GpuSpec: what kunsim knows of a GPU kind: memory, dense bf16 peak, HBM bandwidth and the
// default link speeds of a server built around it. Peaks are datasheet figures; the cost model
// applies its own efficiency factors, so a spec never pretends to be a measurement.
// A GPU kind is a KUNSIM_REGISTER_GPU line (gpu_spec.cpp) plus, for measured costs, its
// profile folder (sim/cost/shipped_profiles.hpp says where those are found).
#pragma once
#include <cstdint>
#include <string>

#include "sim/core/registry.hpp"

namespace kunsim {

struct GpuSpec {
  std::string name;
  std::int64_t memory_bytes = 0;
  double bf16_flops = 0;        // dense peak, FLOP/s
  double hbm_bytes_per_s = 0;   // peak
  double nvlink_bytes_per_s = 0;  // per GPU, per direction
  double pcie_bytes_per_s = 0;    // per direction, to host
  double nic_bytes_per_s = 0;     // per GPU, per direction (RDMA)
};

Registry<GpuSpec>& gpu_registry();
// Throws InputError at `path` listing the known kinds.
const GpuSpec& find_gpu(const std::string& name, const std::string& path);

}  // namespace kunsim

#define KUNSIM_REGISTER_GPU(ident, help, ...) \
  KUNSIM_REGISTER(::kunsim::gpu_registry, gpu_##ident, (::kunsim::GpuSpec{__VA_ARGS__}).name, help, (::kunsim::GpuSpec{__VA_ARGS__}))
