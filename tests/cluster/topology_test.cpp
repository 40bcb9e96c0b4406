#include "sim/cluster/link_scheduler.hpp"
#include "sim/cluster/topology.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace kunsim {
namespace {

ClusterSpec two_by_two() { return test::test_cluster(2, 2); }

TEST(Topology, RoutesUseTheRightLinks) {
  const Topology t(two_by_two());
  ASSERT_EQ(t.num_gpus(), 4);
  const Route& same = t.gpu_to_gpu(0, 1);
  ASSERT_EQ(same.size(), 2u);  // gpu0 -> nvswitch0 -> gpu1
  for (LinkId id : same) EXPECT_EQ(t.link(id).kind, LinkKind::NvLink);
  const Route& cross = t.gpu_to_gpu(1, 2);
  ASSERT_EQ(cross.size(), 2u);  // gpu1 -> netswitch -> gpu2
  for (LinkId id : cross) EXPECT_EQ(t.link(id).kind, LinkKind::Network);
  EXPECT_EQ(t.link_name(cross[0]), "net:gpu1->netswitch");
  const Route& host = t.gpu_to_host(3);
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(t.link_name(host[0]), "pcie:gpu3->host1");
  EXPECT_EQ(&t.gpu_to_gpu(1, 2), &cross) << "routes are cached";
}

TEST(LinkScheduler, TransfersQueueFifoPerLink) {
  const Topology t(two_by_two());
  LinkScheduler ls(t);
  const Route& r = t.gpu_to_host(0);
  // 64 MB at 64 GB/s = 1 ms, plus 5 us latency.
  const auto a = ls.reserve(r, 64'000'000, at_ns(0));
  EXPECT_EQ(a.start, at_ns(0));
  EXPECT_EQ(a.end, at_ns(1'005'000));
  const auto b = ls.reserve(r, 64'000'000, at_ns(500'000));  // arrives while the link is busy
  EXPECT_EQ(b.start, at_ns(1'005'000));
  EXPECT_EQ(b.end, at_ns(2'010'000));
  const auto c = ls.reserve(t.host_to_gpu(0), 64'000'000, at_ns(0));  // the other direction is free
  EXPECT_EQ(c.start, at_ns(0));
  EXPECT_EQ(ls.bytes_moved(r[0]), 128'000'000);
}

}  // namespace
}  // namespace kunsim
