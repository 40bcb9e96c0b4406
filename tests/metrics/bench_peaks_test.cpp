// BenchPeaks: vllm bench serve's one-second buckets count from the first *completed* request's
// start, found online: the buckets wait until every request sent before it has ended.
#include "sim/metrics/bench_peaks.hpp"

#include <gtest/gtest.h>

namespace kunsim {
namespace {

// Request 0 is sent at 0 s and never completes; request 1 is sent at 0.5 s, its first token at
// 0.75 s and its second at 1.25 s. Counted from 0.5 s both tokens fall in one bucket; counted
// from 0 s (the first request sent) they would fall in two.
TEST(BenchPeaks, BucketsCountFromTheFirstCompletedRequestInWhateverOrderTheyEnd) {
  for (const bool first_ends_first : {false, true}) {
    SCOPED_TRACE(first_ends_first ? "request 0 fails first" : "request 1 completes first");
    BenchPeaks p;
    if (first_ends_first) p.ended(0);
    p.completed(1, 0.5, 0.75, 1.25, 2);
    if (!first_ends_first) {
      // Not settled: request 0 might still complete and move the origin to 0 s. Asked now, the
      // peaks count from the earliest completed start.
      EXPECT_EQ(p.peaks().output_tokens_per_s, 2.0);
      p.ended(0);
    }
    EXPECT_EQ(p.peaks().output_tokens_per_s, 2.0);  // from 0 s it would be 1
    EXPECT_EQ(p.peaks().concurrent_requests, 1);
    // Request 2 completes after the origin is settled: sent at 1 s, tokens at 1.75, 2.25, 2.75 s
    // (buckets 1, 1, 2 from 0.5 s); it overlaps request 1 in bucket 0.
    p.completed(2, 1.0, 1.75, 2.75, 3);
    EXPECT_EQ(p.peaks().output_tokens_per_s, 2.0);
    EXPECT_EQ(p.peaks().concurrent_requests, 2);
  }
}

TEST(BenchPeaks, AnOriginThatCompletesLaterMovesTheBuckets) {
  BenchPeaks p;
  p.completed(1, 0.5, 0.75, 1.25, 2);
  p.completed(0, 0.0, 0.25, 0.5, 1);  // request 0 completes after all: buckets from 0 s
  // From 0 s: request 1's tokens at 0.75 (bucket 0) and 1.25 (bucket 1), request 0's at 0.25.
  EXPECT_EQ(p.peaks().output_tokens_per_s, 2.0);  // bucket 0: 0.25 and 0.75
  EXPECT_EQ(p.peaks().concurrent_requests, 2);
}

TEST(BenchPeaks, NothingCompletedHasNoPeaks) {
  BenchPeaks p;
  p.ended(0);
  p.ended(1);
  EXPECT_EQ(p.peaks().output_tokens_per_s, 0.0);
  EXPECT_EQ(p.peaks().concurrent_requests, 0);
}

}  // namespace
}  // namespace kunsim
