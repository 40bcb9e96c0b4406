#include "sim/cluster/gpu_spec.hpp"

namespace kunsim {

Registry<GpuSpec>& gpu_registry() {
  static Registry<GpuSpec> table("GPU kind");
  return table;
}

const GpuSpec& find_gpu(const std::string& name, const std::string& path) { return gpu_registry().at(name, path); }

namespace {
constexpr std::int64_t GB = 1000LL * 1000 * 1000;
}  // namespace

// Memory is the nominal capacity (80 GB HBM3 shows ~79.6 GiB usable; that is folded into the
// engine's utilisation factor). Fields: name, memory, bf16 FLOP/s, HBM B/s, NVLink, PCIe, NIC B/s.
KUNSIM_REGISTER_GPU(a100, "NVIDIA A100 SXM 80 GB (HBM2e 2.0 TB/s, NVLink 3)",
                    "a100-80g", 80 * GB, 312e12, 2.039e12, 300e9, 32e9, 25e9);
KUNSIM_REGISTER_GPU(h100, "NVIDIA H100 SXM 80 GB (HBM3 3.35 TB/s, NVLink 4)",
                    "h100-sxm", 80 * GB, 989e12, 3.35e12, 450e9, 64e9, 50e9);
// The two PCIe-card H100s, named apart from SXM: fewer SMs at lower clocks, and NVLink only as a
// bridge between pairs (600 GB/s both ways: 300 GB/s each way; kunsim's node switch stands in
// for it, so a node of these is right for pairs and optimistic beyond). Datasheet figures:
// H100 PCIe 80 GB HBM2e 2.0 TB/s, 756 TFLOP/s dense bf16; H100 NVL 94 GB HBM3 3.9 TB/s,
// 835 TFLOP/s dense bf16; both PCIe Gen5 x16.
KUNSIM_REGISTER_GPU(h100_pcie, "NVIDIA H100 PCIe 80 GB (HBM2e 2.0 TB/s, NVLink bridge)",
                    "h100-pcie", 80 * GB, 756e12, 2.0e12, 300e9, 64e9, 50e9);
KUNSIM_REGISTER_GPU(h100_nvl, "NVIDIA H100 NVL 94 GB (HBM3 3.9 TB/s, NVLink bridge)",
                    "h100-nvl", 94 * GB, 835e12, 3.9e12, 300e9, 64e9, 50e9);
// H200: 4.8 TB/s and 989 TFLOP/s dense bf16 agree with aiconfigurator's h200_sxm.yaml. Its
// capacity there is 141 GiB; the datasheet's 141 GB is kept, like H100's nominal 80 GB.
KUNSIM_REGISTER_GPU(h200, "NVIDIA H200 SXM 141 GB (HBM3e 4.8 TB/s, NVLink 4)",
                    "h200", 141 * GB, 989e12, 4.8e12, 450e9, 64e9, 50e9);
// HGX B200: 180 GB HBM3e, 7.7 TB/s, 2.25 PFLOP/s dense bf16, NVLink 5 (1.8 TB/s a GPU, 900 GB/s
// each way), PCIe Gen6 x16 and 800 Gb/s of network per GPU: the datasheet, as aiconfigurator's
// b200_sxm.yaml has it.
KUNSIM_REGISTER_GPU(b200, "NVIDIA HGX B200 180 GB (HBM3e 7.7 TB/s, NVLink 5)",
                    "b200", 180 * GB, 2250e12, 7.7e12, 900e9, 128e9, 100e9);

}  // namespace kunsim
