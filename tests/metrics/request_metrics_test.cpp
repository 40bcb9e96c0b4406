// RequestMetrics by hand: what counts as completed, failed and met; front-end time in TTFT/E2E;
// aborted requests reported apart.
#include "sim/metrics/request_metrics.hpp"

#include <gtest/gtest.h>

namespace kunsim {
namespace {

Request finished(RequestId id, std::int64_t arrival_ns, std::int64_t first_ns, std::int64_t end_ns, int output) {
  const SimTime arrival = at_ns(arrival_ns), first = at_ns(first_ns), end = at_ns(end_ns);
  Request r;
  r.id = id;
  r.arrival = arrival;
  r.prompt = 100;
  r.output = output;
  r.generated = output;
  r.scheduled = arrival;
  r.first_token = first;
  r.finished = end;
  return r;
}

TEST(RequestMetrics, CountsLatenciesAndFailuresAsVllmBenchDoes) {
  RequestMetrics m(nullptr, Slo{1.0, 0.1}, ns_span(10'000'000));  // 10 ms front end
  for (int i = 0; i < 4; ++i) {
    m.on_offered(kSimTimeZero);
    m.on_arrival(kSimTimeZero);
  }
  // 0.5 s TTFT, 11 outputs over 1 s: TPOT 0.1 s. Meets (0.51 <= 1, 0.1 <= 0.1).
  m.on_finished(finished(0, 0, 500'000'000, 1'500'000'000, 11));
  // 2 s TTFT: misses.
  m.on_finished(finished(1, 0, 2'000'000'000, 2'100'000'000, 2));
  Request rejected;
  rejected.id = 2;
  m.on_rejected(rejected, "too long");
  Request aborted;
  aborted.id = 3;
  aborted.prompt = 50;
  aborted.generated = 7;
  aborted.scheduled = kSimTimeZero;
  aborted.first_token = at_ns(300'000'000);
  m.on_aborted(aborted);
  const nlohmann::json s = m.summary_json();
  EXPECT_EQ(s["requests"]["completed"], 2);
  EXPECT_EQ(s["requests"]["rejected"], 1);
  EXPECT_EQ(s["requests"]["aborted"], 1);
  EXPECT_DOUBLE_EQ(s["ttft_s"]["min"].get<double>(), 0.51);
  EXPECT_DOUBLE_EQ(s["ttft_s"]["max"].get<double>(), 2.01);
  EXPECT_DOUBLE_EQ(s["slo"]["attainment"].get<double>(), 0.25);  // 1 of 4 arrived
  EXPECT_EQ(s["goodput"]["requests"], 1);
  EXPECT_EQ(s["aborted"]["after_first_token"], 1);
  EXPECT_EQ(s["aborted"]["generated_tokens"], 7);
  EXPECT_DOUBLE_EQ(s["aborted"]["ttft_s"]["max"].get<double>(), 0.31);
  const nlohmann::json b = m.vllm_bench_json();
  EXPECT_EQ(b["completed"], 2);
  EXPECT_EQ(b["failed"], 2);  // rejected + aborted
  EXPECT_EQ(b["total_output_tokens"], 13);
  // The client's setup, with vLLM's names: all four sent at once is request_rate "inf".
  EXPECT_EQ(b["num_prompts"], 4);
  EXPECT_EQ(b["request_rate"], "inf");
  EXPECT_TRUE(b["max_concurrency"].is_null());
  // Peaks over one-second buckets from the first start (0), as the client saw the requests (10 ms
  // front end): request 0's first token at 0.51 s and ten more every 0.1 s to 1.51 s (0.61-0.91 in
  // bucket 0, 1.01-1.51 in bucket 1); request 1's two at 2.01 and 2.11 s. Bucket 1 holds the most
  // tokens (6); buckets 0 and 1 have both requests active.
  EXPECT_EQ(b["max_output_tokens_per_s"], 6.0);
  EXPECT_EQ(b["max_concurrent_requests"], 2);
  EXPECT_EQ(m.vllm_bench_json("llama-3-8b")["model_id"], "llama-3-8b");
  EXPECT_EQ(m.vllm_bench_json("llama-3-8b")["tokenizer_id"], "llama-3-8b");
  EXPECT_TRUE(m.vllm_bench_json("llama-3-8b")["burstiness"].is_null());
  EXPECT_DOUBLE_EQ(
      m.vllm_bench_json("llama-3-8b", {.burstiness = 1 / (0.5 * 0.5), .max_concurrency = std::nullopt})["burstiness"]
          .get<double>(),
      4.0);
  EXPECT_EQ(m.vllm_bench_json("llama-3-8b", {.burstiness = std::nullopt, .max_concurrency = 4})["max_concurrency"], 4);
}

// Arrivals spread over time give the offered rate: 5 arrivals over 2 s is 2 a second.
TEST(RequestMetrics, TheRequestRateIsTheOfferedOne) {
  RequestMetrics m(nullptr, Slo{});
  for (int i = 0; i < 5; ++i) {
    m.on_offered(at_ns(i * 500'000'000LL));
    m.on_arrival(at_ns(i * 500'000'000LL));
    m.on_finished(finished(static_cast<RequestId>(i), i * 500'000'000LL, i * 500'000'000LL + 100'000'000,
                           i * 500'000'000LL + 200'000'000, 3));
  }
  EXPECT_DOUBLE_EQ(m.vllm_bench_json()["request_rate"].get<double>(), 2.0);
  // One at a time, but vLLM counts a request in every second it touches: two share each second.
  EXPECT_EQ(m.vllm_bench_json()["max_concurrent_requests"], 2);
}

}  // namespace
}  // namespace kunsim
