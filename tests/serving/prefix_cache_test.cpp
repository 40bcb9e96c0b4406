// Automatic prefix caching: the cache's eviction order, vLLM's accounting (evictable blocks are
// free), two requests sharing a prefix on one instance, and a KunServe drop whose stale requests
// share one: the shared blocks count once on their home and move once per stage.
#include "sim/serving/prefix/prefix_cache.hpp"

#include <gtest/gtest.h>

#include "serving/engine_fixture.hpp"
#include "sim/serving/engine/kv_block_manager.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"
#include "sim/serving/engine/swap_space.hpp"
#include "traces/prefix_keys.hpp"

namespace kunsim {
namespace {

TEST(PrefixCache, EvictsTheLeastRecentlyIdledAndAPromptsTailFirst) {
  PrefixCache c;
  const std::uint64_t a[] = {10, 11, 12}, d[] = {20};
  EXPECT_EQ(c.hold(a, 3, 2, 0).created, 6);
  EXPECT_EQ(c.hold(a, 2, 2, 0).created, 0);  // a second holder of the first two: shared
  EXPECT_EQ(c.in_use(), 6);
  EXPECT_EQ(c.let_go(a, 3, 0).idled, 2);      // 12 had one holder: evictable now
  EXPECT_EQ(c.let_go(a, 2, 0).idled, 4);      // 11 then 10 (tail first)
  EXPECT_EQ(c.hold(d, 1, 2, 0).created, 2);
  EXPECT_EQ(c.let_go(d, 1, 0).idled, 2);      // queue: 12, 11, 10, 20
  EXPECT_EQ(c.evictable(), 8);
  EXPECT_EQ(c.evict(3), 4);                   // whole entries: 12 and 11
  EXPECT_EQ(c.match(a, 3, 0), 1);             // 10 is still cached
  EXPECT_EQ(c.hold(a, 1, 2, 0).revived, 2);   // held again: off the queue
  EXPECT_EQ(c.evict(100), 2);                 // only 20 was evictable
  EXPECT_EQ(c.evicted_blocks(), 6);
  EXPECT_EQ(c.match(d, 1, 0), 0);
  c.check();
}

TEST(PrefixCache, TheDirectoryListsWhoHasEachKeyCached) {
  PrefixDirectory dir;
  auto holders = [&](std::uint64_t key) {
    const std::span<const int> h = dir.holders(key);
    return std::vector<int>(h.begin(), h.end());
  };
  PrefixCache a, b;
  a.attach(&dir, 7);
  const std::uint64_t k[] = {1, 2};
  a.hold(k, 2, 1, 0);
  b.hold(k, 1, 1, 0);
  b.attach(&dir, 9);  // lists what it had
  b.hold(k, 2, 1, /*salt=*/3);  // a home copy: not listed
  EXPECT_EQ(holders(1), (std::vector<int>{7, 9}));
  EXPECT_EQ(holders(2), (std::vector<int>{7}));
  a.let_go(k, 2, 0);  // evictable: still cached, still listed
  EXPECT_EQ(holders(2).size(), 1u);
  a.evict(1);  // the tail goes first
  EXPECT_TRUE(holders(2).empty());
  EXPECT_EQ(holders(1), (std::vector<int>{7, 9}));
  b.detach();  // retired
  EXPECT_EQ(holders(1), (std::vector<int>{7}));
  dir.close();  // the cluster's teardown: nothing is withdrawn one by one, nothing is listed
  a.detach();
  EXPECT_TRUE(holders(1).empty());
}

TEST(PrefixCache, AHomesPrivateCopiesAreFreedNotCached) {
  PrefixCache c;
  const std::uint64_t a[] = {1, 2};
  c.hold(a, 2, 4, /*salt=*/1);
  EXPECT_EQ(c.match(a, 2, 0), 0);  // another key space than the shared one
  EXPECT_EQ(c.match(a, 2, 1), 2);
  EXPECT_EQ(c.let_go(a, 2, 1).freed, 8);
  EXPECT_EQ(c.evictable(), 0);
  EXPECT_EQ(c.entries(), 0u);
}

TEST(KvBlockManager, EvictableBlocksCountAsFreeAndAreEvictedOnlyForRoom) {
  KvBlockManager kv(10);
  const std::uint64_t p[] = {7, 8};
  EXPECT_EQ(kv.hold_prefix(p, 2, 3, 0), 6);
  kv.let_go_prefix(p, 2, 0);
  EXPECT_EQ(kv.used(), 0);
  EXPECT_EQ(kv.free(), 10);
  EXPECT_EQ(kv.cached(), 6);
  kv.allocate(4);  // fits beside the cache
  EXPECT_EQ(kv.cached(), 6);
  kv.allocate(1);  // needs the room of one entry: the prompt's tail (8) goes
  EXPECT_EQ(kv.cached(), 3);
  EXPECT_EQ(kv.prefixes().match(p, 2, 0), 1);
  EXPECT_THROW(kv.resize(4), std::logic_error);  // below the 5 used
  kv.resize(6);                                   // evicts the rest to fit
  EXPECT_EQ(kv.cached(), 0);
}

// Hash blocks of 32 tokens (2 KV blocks of 16): a 100-token prompt has 3 full ones.
void give_prefix(Request* r, std::vector<std::uint64_t> ids, int hash_block_tokens = 32) {
  r->prefix = prefix_keys(ids, r->prompt, hash_block_tokens);
  r->prefix_unit = hash_block_tokens / 16;
}

// a (4000-token prompt, long output) then b with the same first 124 hash blocks of 32 tokens
// (3968 tokens: the most that leaves b a token to compute), or with none in common.
struct Pair {
  test::InstanceFixture f{test::tiny_model(), test::ideal_roofline(), 1000};
  Request* a = f.add(1, 0, 4000, 3000);
  Request* b = f.add(2, 5'000'000, 4000, 3);  // after a's prefill; finishes long before a
  explicit Pair(bool shared) {
    std::vector<std::uint64_t> ids(125), other(125);
    for (int i = 0; i < 125; ++i) {
      ids[i] = static_cast<std::uint64_t>(i);
      other[i] = static_cast<std::uint64_t>(1000 + i);
    }
    give_prefix(a, ids);
    give_prefix(b, shared ? ids : other);
  }
  SimDuration b_ttft() const { return *b->first_token - b->arrival; }
};

TEST(PrefixCachingInstance, TwoRequestsShareAPrefixUntilBothFinish) {
  Pair p(true);
  test::InstanceFixture& f = p.f;
  Request *a = p.a, *b = p.b;
  ASSERT_EQ(a->prefix.size(), 125u);
  f.run_until({a}, 4'000'000, [] {});
  // a's prefill cached its 125 full hash blocks (250 KV blocks); its own blocks are the rest.
  EXPECT_EQ(a->cached_keys, 125);
  EXPECT_EQ(f.inst->kv().prefixes().in_use(), 250);
  // While b prefills: it found 124 of them (it must compute its last token), holds them too,
  // and its own blocks are the 2 KV blocks past them (tokens 3968..3999).
  bool seen = false;
  f.run_until({b}, 50'000'000, [&] {
    ASSERT_LE(f.inst->kv().used(), f.inst->kv().capacity());
    f.inst->check_prefix_holders();
    if (seen || b->phase != Phase::Prefill) return;
    seen = true;
    EXPECT_EQ(b->cached_keys, 124);
    EXPECT_EQ(b->blocks, 2);
    EXPECT_EQ(b->prefilled, 3968);
    EXPECT_EQ(f.inst->counters().prefix_hit_tokens, 3968);
    EXPECT_EQ(f.inst->counters().prefix_queried_tokens, 8000);
    EXPECT_EQ(f.inst->kv().prefixes().in_use(), 250);  // once, for both
    f.inst->sync(a);
    EXPECT_EQ(f.inst->kv().used(), 250 + a->blocks + b->blocks);  // the shared ones once
  });
  EXPECT_TRUE(seen);
  // b finished: the blocks stay held by a.
  ASSERT_EQ(b->phase, Phase::Finished);
  ASSERT_EQ(a->phase, Phase::Decode);
  EXPECT_EQ(f.inst->kv().prefixes().in_use(), 250);
  EXPECT_EQ(f.inst->kv().cached(), 0);
  // a finishes: nobody holds them; they stay cached, evictable, and count as free.
  f.run({});
  ASSERT_EQ(a->phase, Phase::Finished);
  EXPECT_EQ(f.inst->kv().used(), 0);
  EXPECT_EQ(f.inst->kv().cached(), 250);
  f.inst->kv().prefixes().check();
}

TEST(PrefixCachingInstance, AHitSkipsThePrefillOfTheCachedTokens) {
  Pair shared(true), apart(false);
  shared.f.run({shared.a, shared.b});
  apart.f.run({apart.a, apart.b});
  EXPECT_EQ(apart.f.inst->counters().prefix_hit_tokens, 0);
  // Both wait for a's decode step in flight; b then prefills 32 tokens instead of 4000.
  EXPECT_LT(shared.b_ttft().ns() * 3 / 2, apart.b_ttft().ns()) << shared.b_ttft() << " vs " << apart.b_ttft();
}

TEST(PrefixCachingSwap, ASharedPrefixIsCopiedToTheHostOnce) {
  test::InstanceFixture f(test::tiny_model(), test::ideal_roofline(), 1000);
  SwapSpace host(100);
  Request* a = f.add(1, 0, 100, 50);
  Request* b = f.add(2, 0, 100, 50);
  for (Request* r : {a, b}) {
    give_prefix(r, {1, 2, 3});
    r->cached_keys = 3;  // 6 shared blocks
    r->blocks = 5;       // its own
  }
  EXPECT_EQ(host.blocks_to_swap_out(*a), 11);
  const SimDuration out_a = host.swap_out(f.ctx, f.inst->members()[0], *a, kSimTimeZero) - kSimTimeZero;
  EXPECT_EQ(host.used(), 11);
  EXPECT_EQ(host.blocks_to_swap_out(*b), 5);  // the prefix is on the host already
  const SimTime later = SimTime::from_ns(1'000'000'000);
  const SimDuration out_b = host.swap_out(f.ctx, f.inst->members()[0], *b, later) - later;
  EXPECT_EQ(host.used(), 16);
  EXPECT_LT(out_b, out_a);
  host.swap_in(f.ctx, f.inst->members()[0], *a, 5, SimTime::from_ns(2'000'000'000));
  EXPECT_EQ(host.used(), 11);  // b still holds the prefix there
  host.release(*b);
  EXPECT_EQ(host.used(), 0);
}

// Four long requests on each of two instances; on instance 0 they share a 96-token prefix (3
// hash blocks of 32 tokens: 6 KV blocks). Fused (g = 2), the shared blocks count once among
// instance 0's stale KV, and the exchange sends them to member 1 once, not once per request.
struct Dropped {
  std::int64_t stale_blocks = 0, exchange_bytes = 0, block_bytes = 0;
};
Dropped drop_with_prefix(bool shared) {
  test::ClusterOf f(2, 2000);
  for (RequestId id = 0; id < 8; ++id) {
    Request* r = f.add(id, 0, 100, 2000);
    if (shared && id % 2 == 0) give_prefix(r, {5, 6, 7});
    f.cluster->instance(static_cast<int>(id % 2))->enqueue(r, kSimTimeZero);
  }
  f.run_until({}, 500'000'000, [] {});
  EXPECT_TRUE(f.cluster->fuse({0, 1}, FuseOptions{}, f.now));
  f.run_until({}, 5'000'000'000, [&] {
    for (const Engine* e : f.cluster->engine_list()) {
      ASSERT_LE(e->kv().used(), e->kv().capacity());
      e->check_prefix_holders();
    }
  });
  Dropped out;
  out.block_bytes = f.memory.block_bytes;
  for (const auto& d : f.observer.decisions) {
    if (d["kind"] == "drop") out.stale_blocks = d["stale_blocks"];
    if (d["kind"] == "kv_exchange" && d["phase"] == "done") out.exchange_bytes = d["bytes"];
  }
  const Engine& g = *f.cluster->engine_list().back();
  EXPECT_EQ(g.stale_requests(), 0);
  // Exchanged: the four share the group's per-stage entries; no home copy is left.
  EXPECT_EQ(g.kv().prefixes().in_use(), shared ? 6 : 0);
  g.kv().prefixes().check();
  return out;
}

TEST(PrefixCachingDrop, SharedBlocksCountOnceAndMoveOncePerStage) {
  const Dropped plain = drop_with_prefix(false), shared = drop_with_prefix(true);
  // Engine 0's four requests held 6 blocks each of the same prefix; shared, they hold them once.
  EXPECT_EQ(plain.stale_blocks - shared.stale_blocks, 3 * 6);
  // Member 1 owns the last 16 of llama-3-8b's 32 layers: it receives instance 0's KV for them,
  // the shared prefix once instead of four times (member 0 already holds it whole).
  EXPECT_EQ(plain.exchange_bytes - shared.exchange_bytes, 3 * 6 * (shared.block_bytes / 32) * 16);
}

}  // namespace
}  // namespace kunsim
