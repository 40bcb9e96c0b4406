// KvExchange (stale_kv=blocking-exchange): the same bytes move whatever the round size; smaller
// rounds take longer (each round's layers go one after another).
#include "sim/serving/reconfig/kunserve/kv_exchange.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"

namespace kunsim {
namespace {

struct Exchanged {
  std::int64_t bytes = 0, requests = 0;
  double duration_s = 0;
};

Exchanged exchange_with_batch(int batch) {
  test::ClusterOf f(2, 2000);
  ServingCluster& cluster = *f.cluster;
  // Four long-lived requests on each instance, then fuse: eight stale requests.
  for (RequestId id = 0; id < 8; ++id) cluster.instance(static_cast<int>(id % 2))->enqueue(f.add(id, 0, 1600, 2000), kSimTimeZero);
  f.run_until({}, 500'000'000, [] {});
  FuseOptions opt;
  opt.stale_kv = StaleKvMode::BlockingExchange;
  opt.exchange.batch = batch;
  EXPECT_TRUE(cluster.fuse({0, 1}, opt, f.now));
  f.run_until({}, 5'000'000'000, [] {});
  Exchanged out;
  for (const auto& d : f.observer.decisions)
    if (d["kind"] == "kv_exchange" && d["phase"] == "done") {
      out.bytes = d["bytes"];
      out.requests = d["requests"];
      out.duration_s = d["duration_s"];
    }
  EXPECT_EQ(cluster.engine_list().back()->stale_requests(), 0);
  return out;
}

TEST(KvExchange, RoundsMoveTheSameBytesAndSmallerRoundsTakeLonger) {
  const Exchanged one = exchange_with_batch(1), all = exchange_with_batch(8);
  EXPECT_EQ(one.requests, 8);
  EXPECT_EQ(all.requests, 8);
  EXPECT_GT(all.bytes, 0);
  // The group is blocked while the exchange runs, so the blocks at fusion are what moves.
  EXPECT_EQ(one.bytes, all.bytes);
  EXPECT_GT(one.duration_s, all.duration_s);
}

}  // namespace
}  // namespace kunsim
