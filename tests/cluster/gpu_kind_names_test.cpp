// A GPU kind is one entry: the names other sources give it (the CUDA driver's device name, NVIDIA
// aiconfigurator's system folder) come from that entry, and the most specific driver name wins.
#include <gtest/gtest.h>

#include "sim/cluster/gpu_spec.hpp"

namespace kunsim {
namespace {

std::string kind_for(const std::string& device) {
  const GpuSpec* g = gpu_for_driver_name(device);
  return g ? g->name : "";
}

TEST(GpuKindNames, TheDriversDeviceNameFindsTheMostSpecificKind) {
  EXPECT_EQ(kind_for("NVIDIA H100 80GB HBM3"), "h100-sxm");
  EXPECT_EQ(kind_for("NVIDIA H100 PCIe"), "h100-pcie");
  EXPECT_EQ(kind_for("NVIDIA H100 NVL"), "h100-nvl");
  EXPECT_EQ(kind_for("NVIDIA H200"), "h200");
  EXPECT_EQ(kind_for("NVIDIA A100-SXM4-80GB"), "a100-80g");
  EXPECT_EQ(kind_for("NVIDIA B200"), "b200");
  EXPECT_EQ(kind_for("Tesla V100-SXM2-32GB"), "");
}

TEST(GpuKindNames, AiconfiguratorSystemsMapBothWays) {
  for (const auto& [name, item] : gpu_registry().items()) {
    const std::string& system = item.entry.aiconfigurator_system;
    if (system.empty()) continue;
    const GpuSpec* back = gpu_for_aiconfigurator_system(system);
    ASSERT_NE(back, nullptr) << system;
    EXPECT_EQ(back->name, name);
  }
  EXPECT_EQ(gpu_for_aiconfigurator_system("h100_sxm")->name, "h100-sxm");
  EXPECT_EQ(gpu_for_aiconfigurator_system("gb200_sxm"), nullptr);
  EXPECT_EQ(gpu_for_aiconfigurator_system(""), nullptr);
}

}  // namespace
}  // namespace kunsim
