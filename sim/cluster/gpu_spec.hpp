// GpuSpec: what kunsim knows of a GPU kind: memory, dense bf16 peak, HBM bandwidth and the
// default link speeds of a server built around it, and how other sources name it. Peaks are
// datasheet figures; the cost model applies its own efficiency factors, so a spec never
// pretends to be a measurement.
// A GPU kind is one KUNSIM_REGISTER_GPU entry (gpu_spec.cpp): the importer of NVIDIA's tables
// (`kunsim import aiconfigurator`), kunsim-calibrate (the name the driver reports) and the tools
// (`kunsim list gpus`) all read it. For measured costs, add its profile folder
// (sim/cost/shipped_profiles.hpp says where those are found). The entry has its own library,
// kunsim_gpu_kinds, built in every configuration, since kunsim-calibrate needs it too.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/registry.hpp"

namespace kunsim {

struct GpuSpec {
  std::string name;
  std::int64_t memory_bytes = 0;  // the total CUDA reports (vLLM's total_gpu_memory), not the datasheet's
  double bf16_flops = 0;        // dense peak, FLOP/s
  double fp8_flops = 0;         // dense fp8 tensor-core peak; 0: none (Ampere), fp8 is refused
  double hbm_bytes_per_s = 0;   // peak
  double nvlink_bytes_per_s = 0;  // per GPU, per direction
  double pcie_bytes_per_s = 0;    // per direction, to host
  double nic_bytes_per_s = 0;     // per GPU, per direction (RDMA)
  // NVIDIA aiconfigurator's system folder for it ("h100_sxm"), or "" where it has none.
  std::string aiconfigurator_system;
  // Substrings of the name the CUDA driver reports (cudaDeviceProp::name) that mean this kind;
  // among all kinds, the longest match wins ("H100 PCIe" over "H100").
  std::vector<std::string> driver_names;
};

Registry<GpuSpec>& gpu_registry();
// Throws InputError at `path` listing the known kinds.
const GpuSpec& find_gpu(const std::string& name, const std::string& path);
// The kind the driver's device name means, or nullptr.
const GpuSpec* gpu_for_driver_name(const std::string& device_name);
// The kind of an aiconfigurator system folder, or nullptr.
const GpuSpec* gpu_for_aiconfigurator_system(const std::string& system);

}  // namespace kunsim

// KUNSIM_REGISTER_GPU(ident, "help", {.name = ..., .memory_bytes = ..., ...}): the spec by field name.
#define KUNSIM_REGISTER_GPU(ident, help, ...) \
  KUNSIM_REGISTER(::kunsim::gpu_registry, gpu_##ident, (::kunsim::GpuSpec __VA_ARGS__).name, help, (::kunsim::GpuSpec __VA_ARGS__))
