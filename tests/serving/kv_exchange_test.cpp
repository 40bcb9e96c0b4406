// KvExchange: the same bytes move whatever the round size; smaller rounds take longer (each
// round's layers go one after another) and lay requests out per stage a round at a time.
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

Exchanged exchange_with_batch(int batch, SimDuration interval = {}) {
  test::ClusterOf f(2, 2000);
  ServingCluster& cluster = *f.cluster;
  // Four long-lived requests on each instance, then fuse: eight stale requests.
  for (RequestId id = 0; id < 8; ++id) cluster.instance(static_cast<int>(id % 2))->enqueue(f.add(id, 0, 1600, 2000), kSimTimeZero);
  f.run_until({}, 500'000'000, [] {});
  FuseOptions opt;
  opt.exchange_batch = batch;
  opt.exchange_interval = interval;
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
  // The requests decode while the exchange runs, so their blocks at fusion are what moves: the
  // same in both runs (fused at the same instant).
  EXPECT_EQ(one.bytes, all.bytes);
  EXPECT_GT(one.duration_s, all.duration_s);
}

// Paced as the reference's live exchange: eight rounds of one request, a round every 0.25 s
// (each takes far less), so the last starts 7 x 0.25 s after the first and ends within 0.25 s.
TEST(KvExchange, RoundsStartAnIntervalApartWhenTheyEndSooner) {
  const Exchanged back_to_back = exchange_with_batch(1, SimDuration{});
  ASSERT_LT(back_to_back.duration_s, 0.25 / 8) << "a round takes far less than the interval";
  const Exchanged paced = exchange_with_batch(1, kNsPerSecond / 4);
  EXPECT_EQ(paced.requests, 8);
  EXPECT_GE(paced.duration_s, 7 * 0.25);
  EXPECT_LT(paced.duration_s, 7 * 0.25 + 0.25 / 8);
}

}  // namespace
}  // namespace kunsim
