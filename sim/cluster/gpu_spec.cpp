#include "sim/cluster/gpu_spec.hpp"

namespace kunsim {

Registry<GpuSpec>& gpu_registry() {
  static Registry<GpuSpec> table("GPU kind");
  return table;
}

const GpuSpec& find_gpu(const std::string& name, const std::string& path) { return gpu_registry().at(name, path); }

const GpuSpec* gpu_for_driver_name(const std::string& device_name) {
  const GpuSpec* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [name, entry] : gpu_registry().items())
    for (const std::string& n : entry.entry.driver_names)
      if (n.size() > best_len && device_name.find(n) != std::string::npos) {
        best = &entry.entry;
        best_len = n.size();
      }
  return best;
}

const GpuSpec* gpu_for_aiconfigurator_system(const std::string& system) {
  for (const auto& [name, entry] : gpu_registry().items())
    if (!system.empty() && entry.entry.aiconfigurator_system == system) return &entry.entry;
  return nullptr;
}

namespace {
// Memory is the total CUDA reports (cudaMemGetInfo; vLLM's "total_gpu_memory", which it multiplies
// by gpu_memory_utilization), not the datasheet's: an "80 GB" H100 reports 79.11 GiB, where 80e9
// bytes would be 74.5 GiB and leave each GPU ~4 GiB of KV short of what vLLM allocates.
constexpr std::int64_t cuda_total_gib(double gib) { return static_cast<std::int64_t>(gib * 1024 * 1024 * 1024); }
}  // namespace

// Link speeds are per direction. fp8 peaks are the datasheets' dense figures, twice bf16 on
// Hopper and Blackwell (aiconfigurator's h100_sxm.yaml: 1978 TFLOP/s); the A100 has no fp8 tensor
// cores, and kunsim refuses fp8 weights or KV on it.
// A100 80GB reports 79.15 GiB (vLLM's profiling log and PyTorch's out-of-memory message).
KUNSIM_REGISTER_GPU(a100, "NVIDIA A100 SXM 80 GB (HBM2e 2.0 TB/s, NVLink 3)",
                    {.name = "a100-80g",
                     .memory_bytes = cuda_total_gib(79.15),
                     .bf16_flops = 312e12,
                     .hbm_bytes_per_s = 2.039e12,
                     .nvlink_bytes_per_s = 300e9,
                     .pcie_bytes_per_s = 32e9,
                     .nic_bytes_per_s = 25e9,
                     .aiconfigurator_system = "a100_sxm",
                     .driver_names = {"A100"}});
// The SXM part reports "NVIDIA H100 80GB HBM3" and 79.11 GiB (vLLM V1's profiling log:
// "total_gpu_memory (79.11GiB) x gpu_memory_utilization (0.90) = 71.20GiB").
KUNSIM_REGISTER_GPU(h100, "NVIDIA H100 SXM 80 GB (HBM3 3.35 TB/s, NVLink 4)",
                    {.name = "h100-sxm",
                     .memory_bytes = cuda_total_gib(79.11),
                     .bf16_flops = 989e12,
                     .fp8_flops = 1979e12,
                     .hbm_bytes_per_s = 3.35e12,
                     .nvlink_bytes_per_s = 450e9,
                     .pcie_bytes_per_s = 64e9,
                     .nic_bytes_per_s = 50e9,
                     .aiconfigurator_system = "h100_sxm",
                     .driver_names = {"H100"}});
// The two PCIe-card H100s, named apart from SXM: fewer SMs at lower clocks, and NVLink only as a
// bridge between pairs (600 GB/s both ways: 300 GB/s each way; kunsim's node switch stands in
// for it, so a node of these is right for pairs and optimistic beyond). Datasheet figures:
// H100 PCIe 80 GB HBM2e 2.0 TB/s, 756 TFLOP/s dense bf16; H100 NVL 94 GB HBM3 3.9 TB/s,
// 835 TFLOP/s dense bf16; both PCIe Gen5 x16. The driver calls them "H100 PCIe" and "H100 NVL".
// Their CUDA totals are estimates (no log at hand): the PCIe card's 80 GB as the SXM's; the NVL's
// 94 GB (95,830 MiB in nvidia-smi) less the SXM's 0.54 GiB between nvidia-smi and CUDA.
KUNSIM_REGISTER_GPU(h100_pcie, "NVIDIA H100 PCIe 80 GB (HBM2e 2.0 TB/s, NVLink bridge)",
                    {.name = "h100-pcie",
                     .memory_bytes = cuda_total_gib(79.11),
                     .bf16_flops = 756e12,
                     .fp8_flops = 1513e12,
                     .hbm_bytes_per_s = 2.0e12,
                     .nvlink_bytes_per_s = 300e9,
                     .pcie_bytes_per_s = 64e9,
                     .nic_bytes_per_s = 50e9,
                     .aiconfigurator_system = "",
                     .driver_names = {"H100 PCIe"}});
KUNSIM_REGISTER_GPU(h100_nvl, "NVIDIA H100 NVL 94 GB (HBM3 3.9 TB/s, NVLink bridge)",
                    {.name = "h100-nvl",
                     .memory_bytes = cuda_total_gib(93.04),
                     .bf16_flops = 835e12,
                     .fp8_flops = 1671e12,
                     .hbm_bytes_per_s = 3.9e12,
                     .nvlink_bytes_per_s = 300e9,
                     .pcie_bytes_per_s = 64e9,
                     .nic_bytes_per_s = 50e9,
                     .aiconfigurator_system = "",
                     .driver_names = {"H100 NVL"}});
// H200: 4.8 TB/s and 989 TFLOP/s dense bf16 agree with aiconfigurator's h200_sxm.yaml. The
// datasheet's 141 GB reports 139.81 GiB (vLLM's profiling log).
KUNSIM_REGISTER_GPU(h200, "NVIDIA H200 SXM 141 GB (HBM3e 4.8 TB/s, NVLink 4)",
                    {.name = "h200",
                     .memory_bytes = cuda_total_gib(139.81),
                     .bf16_flops = 989e12,
                     .fp8_flops = 1979e12,
                     .hbm_bytes_per_s = 4.8e12,
                     .nvlink_bytes_per_s = 450e9,
                     .pcie_bytes_per_s = 64e9,
                     .nic_bytes_per_s = 50e9,
                     .aiconfigurator_system = "h200_sxm",
                     .driver_names = {"H200"}});
// HGX B200: 180 GB HBM3e, 7.7 TB/s, 2.25 PFLOP/s dense bf16, NVLink 5 (1.8 TB/s a GPU, 900 GB/s
// each way), PCIe Gen6 x16 and 800 Gb/s of network per GPU: the datasheet, as aiconfigurator's
// b200_sxm.yaml has it. Its 180 GB report 178.35 GiB (PyTorch's out-of-memory message).
KUNSIM_REGISTER_GPU(b200, "NVIDIA HGX B200 180 GB (HBM3e 7.7 TB/s, NVLink 5)",
                    {.name = "b200",
                     .memory_bytes = cuda_total_gib(178.35),
                     .bf16_flops = 2250e12,
                     .fp8_flops = 4500e12,
                     .hbm_bytes_per_s = 7.7e12,
                     .nvlink_bytes_per_s = 900e9,
                     .pcie_bytes_per_s = 128e9,
                     .nic_bytes_per_s = 100e9,
                     .aiconfigurator_system = "b200_sxm",
                     .driver_names = {"B200"}});

}  // namespace kunsim
