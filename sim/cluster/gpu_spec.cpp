#include "sim/cluster/gpu_spec.hpp"

#include "sim/core/input_error.hpp"

namespace kunsim {

const std::vector<GpuSpec>& gpu_catalogue() {
  constexpr std::int64_t GB = 1000LL * 1000 * 1000;
  // Memory as the driver reports it (80 GB HBM3 shows ~79.6 GiB usable is folded into the
  // engine's utilisation factor, so the nominal capacity is used here).
  static const std::vector<GpuSpec> gpus = {
      {"a100-80g", 80 * GB, 312e12, 2.039e12, 300e9, 32e9, 25e9},
      {"h100-sxm", 80 * GB, 989e12, 3.35e12, 450e9, 64e9, 50e9},
      // H200: 4.8 TB/s and 989 TFLOP/s dense bf16 agree with aiconfigurator's h200_sxm.yaml. Its
      // capacity there is 141 GiB; the datasheet's 141 GB is kept, like H100's nominal 80 GB.
      {"h200", 141 * GB, 989e12, 4.8e12, 450e9, 64e9, 50e9},
      // HGX B200: 180 GB HBM3e, 7.7 TB/s, 2.25 PFLOP/s dense bf16, NVLink 5 (1.8 TB/s a GPU, 900
      // GB/s each way), PCIe Gen6 x16 and 800 Gb/s of network per GPU: the datasheet, as
      // aiconfigurator's b200_sxm.yaml has it.
      {"b200", 180 * GB, 2250e12, 7.7e12, 900e9, 128e9, 100e9},
  };
  return gpus;
}

const GpuSpec& find_gpu(const std::string& name, const std::string& path) {
  std::string known;
  for (const auto& g : gpu_catalogue()) {
    if (g.name == name) return g;
    known += (known.empty() ? "" : ", ") + g.name;
  }
  throw InputError(path + ": unknown GPU kind \"" + name + "\" (known: " + known + ")");
}

}  // namespace kunsim
