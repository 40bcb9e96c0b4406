// GpuSpec: what kunsim knows of a GPU kind: memory, dense bf16 peak, HBM bandwidth and the
// default link speeds of a server built around it. Peaks are datasheet figures; the cost model
// applies its own efficiency factors, so a spec never pretends to be a measurement.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

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

const std::vector<GpuSpec>& gpu_catalogue();
// Throws InputError at `path` listing the known kinds.
const GpuSpec& find_gpu(const std::string& name, const std::string& path);

}  // namespace kunsim
