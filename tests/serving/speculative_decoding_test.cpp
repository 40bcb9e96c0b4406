// Speculative decoding, part by part: the acceptance formula, the cohort's token clock and its
// KV blocks against stepping one step at a time, the price of a verifying step at k = 2 by
// hand, and the lookahead slots a request reserves when admitted.
#include <gtest/gtest.h>

#include <cmath>
#include <deque>

#include "engine_fixture.hpp"
#include "sim/core/rng.hpp"
#include "sim/cost/speculative_cost_model.hpp"
#include "sim/serving/engine/decode_cohort.hpp"

namespace kunsim {
namespace {

SpeculativeSpec eagle(int k, double alpha, const ModelSpec& target) {
  const Json j = {{"method", "eagle"}, {"num_tokens", k}, {"acceptance", alpha}};
  return speculative_from_json(&j, "deployment.speculative", target);
}

const ModelSpec& llama8b() { return find_model("llama-3.1-8b", "model"); }

TEST(SpeculativeSpec, TokensPerStepIsTheAcceptedDraftsPlusTheBonusToken) {
  // (1 - a^(k+1)) / (1 - a) at a = 0.8, k = 2: 1 + 0.8 + 0.64.
  EXPECT_NEAR(eagle(2, 0.8, llama8b()).tokens_per_step(), 2.44, 1e-12);
  EXPECT_NEAR(eagle(4, 0.6, llama8b()).tokens_per_step(), (1 - std::pow(0.6, 5)) / (1 - 0.6), 1e-12);
  EXPECT_NEAR(eagle(3, 0.0, llama8b()).tokens_per_step(), 1.0, 1e-12) << "nothing accepted: the bonus token alone";
  EXPECT_NEAR(eagle(3, 1.0, llama8b()).tokens_per_step(), 4.0, 1e-12) << "all accepted: k + 1";
  // Per position as vLLM reports it: 1 + sum of the rates. A workload's alpha replaces it.
  const Json j = {{"method", "eagle3"}, {"num_tokens", 3}, {"acceptance_by_position", {0.9, 0.7, 0.4}}};
  const SpeculativeSpec byp = speculative_from_json(&j, "deployment.speculative", llama8b());
  EXPECT_NEAR(byp.tokens_per_step(), 3.0, 1e-12);
  EXPECT_NEAR(byp.tokens_per_step(0.5), 1.875, 1e-12);
  EXPECT_EQ(byp.emit_rate(), 3 * SpeculativeSpec::kOneToken);
  // Slots held beyond the context: the k verified drafts, and vLLM's lookahead of k more for a
  // proposer with KV of its own; ngram keeps none.
  EXPECT_EQ(byp.lookahead(), 6);
  const Json n = {{"method", "ngram"}, {"num_tokens", 3}, {"acceptance", 0.5}};
  EXPECT_EQ(speculative_from_json(&n, "deployment.speculative", llama8b()).lookahead(), 3);
  const Json off = {{"method", "eagle"}, {"num_tokens", 0}};
  EXPECT_FALSE(speculative_from_json(&off, "deployment.speculative", llama8b()).on());
}

TEST(SpeculativeSpec, TheFormulaIsWhatSeededAcceptanceDrawsEmit) {
  // Draw each step as a verifier does: drafts accepted in order while each passes with chance
  // alpha, then the bonus token. The mean over many seeded steps is the formula.
  for (const auto& [k, alpha] : {std::pair{2, 0.8}, std::pair{4, 0.6}, std::pair{5, 0.9}}) {
    Rng rng(11);
    const int steps = 400000;
    std::int64_t emitted = 0;
    for (int s = 0; s < steps; ++s) {
      int accepted = 0;
      while (accepted < k && rng.uniform() < alpha) ++accepted;
      emitted += accepted + 1;
    }
    EXPECT_NEAR(static_cast<double>(emitted) / steps, eagle(k, alpha, llama8b()).tokens_per_step(), 0.01)
        << "k " << k << " alpha " << alpha;
  }
}

// A decode of the cohort, with its own step-by-step copy of the lane clock.
Request decode(RequestId id, int prompt, int generated, int output, std::int64_t rate, int lookahead) {
  Request r;
  r.id = id;
  r.prompt = prompt;
  r.generated = generated;
  r.output = output;
  r.emit_rate = static_cast<std::int32_t>(rate);
  r.lookahead = static_cast<std::int16_t>(lookahead);
  r.ve = 0;
  return r;
}

TEST(DecodeCohortSpeculative, TheClockEmitsTheRateEveryStepAndOnAverage) {
  const std::int64_t rate = eagle(2, 0.8, llama8b()).emit_rate();  // 2.44 tokens a step
  DecodeCohort c(16);
  c.count_steps();
  Request r = decode(1, 100, 1, 1 << 30, rate, 4);
  c.add(&r);
  Rng rng(5);
  std::int64_t steps = 0, last = 0;
  // Jumps of seeded lengths: each step emits floor or ceil of the rate, and the mean is the rate.
  while (steps < 200000) {
    const std::int64_t k = 1 + static_cast<std::int64_t>(rng.next_u64() % 37);
    c.advance(k);
    steps += k;
    c.sync(&r);
    const std::int64_t got = r.generated - 1 - last;
    last = r.generated - 1;
    EXPECT_GE(got, 2 * k);
    EXPECT_LE(got, 3 * k);
  }
  EXPECT_EQ(c.decode_steps(), steps);
  EXPECT_NEAR(static_cast<double>(c.emitted_tokens()) / static_cast<double>(steps), 2.44, 1.0 / 65536 + 1e-9);
}

// Step-by-step reference with speculation: each step every decode's clock moves on, and it holds
// running_blocks_for(prompt + emitted - 1) blocks; count the allocations one step at a time.
std::int64_t brute_blocks(std::vector<Request> rs, std::vector<std::int64_t> clock0, std::int64_t k, int bs) {
  std::int64_t total = 0;
  for (std::int64_t s = 0; s < k; ++s)
    for (std::size_t i = 0; i < rs.size(); ++i) {
      Request& r = rs[i];
      const std::int64_t before = (clock0[i] + s) * r.emit_rate / SpeculativeSpec::kOneToken;
      const std::int64_t after = (clock0[i] + s + 1) * r.emit_rate / SpeculativeSpec::kOneToken;
      total += r.running_blocks_for(std::int64_t{r.prompt} + r.generated + (after - before) - 1, bs) -
               r.running_blocks_for(std::int64_t{r.prompt} + r.generated - 1, bs);
      r.generated += static_cast<int>(after - before);
    }
  return total;
}

TEST(DecodeCohortSpeculative, BlocksNeededMatchesStepByStepAcrossRates) {
  Rng rng(9);
  const std::int64_t rates[] = {SpeculativeSpec::kOneToken, eagle(2, 0.8, llama8b()).emit_rate(),
                                eagle(4, 0.6, llama8b()).emit_rate()};
  for (int bs : {1, 16, 64}) {
    std::deque<Request> store;
    DecodeCohort c(bs);
    auto add_some = [&](int from, int to) {
      for (int i = from; i < to; ++i) {
        Request& r = store.emplace_back(decode(i, 1 + static_cast<int>(rng.next_u64() % 3000),
                                               1 + static_cast<int>(rng.next_u64() % 500), 1 << 20, rates[i % 3],
                                               i % 3 == 0 ? 0 : 4 + i % 5));
        c.add(&r);
      }
    };
    // Every lane's clock starts with its first decode; those that join later start mid-clock.
    add_some(0, 30);
    const std::int64_t a = static_cast<std::int64_t>(rng.next_u64() % 1000);
    c.advance(a);
    add_some(30, 60);
    const std::int64_t b = static_cast<std::int64_t>(rng.next_u64() % 100);
    c.advance(b);
    std::vector<Request> copy;
    for (Request& r : store) {
      c.sync(&r);
      copy.push_back(r);
    }
    const std::vector<std::int64_t> clock(copy.size(), a + b);
    for (std::int64_t k : {0, 1, 2, 15, 16, 17, 100, 333})
      EXPECT_EQ(c.blocks_needed(k), brute_blocks(copy, clock, k, bs)) << "bs " << bs << " k " << k;
    for (std::int64_t j : {0, 1, 5, 40}) {
      const std::int64_t one = brute_blocks(copy, clock, j + 1, bs) - brute_blocks(copy, clock, j, bs);
      EXPECT_EQ(c.blocks_needed_at(j), one) << "bs " << bs << " step " << j;
    }
    const std::int64_t fit = c.steps_fitting(500, 1000);
    EXPECT_LE(c.blocks_needed(fit), 500);
    EXPECT_GT(c.blocks_needed(fit + 1), 500);
  }
}

TEST(DecodeCohortSpeculative, AFinishIsTheFirstStepWhoseClockReachesTheOutput) {
  const std::int64_t rate = eagle(2, 0.8, llama8b()).emit_rate();
  DecodeCohort c(16);
  Request r = decode(1, 100, 1, 50, rate, 4);
  c.add(&r);
  // 49 more tokens at 2.44 a step: floor(s x 2.44) >= 49 first at s = 21 (51.2), not 20 (48.8).
  EXPECT_EQ(c.steps_to_next_finish(), 21);
  c.advance(20);
  EXPECT_TRUE(c.take_finished().empty());
  c.advance(1);
  const auto& done = c.take_finished();
  ASSERT_EQ(done.size(), 1U);
  EXPECT_EQ(r.generated, 50) << "the client gets its output, the last step's extra tokens dropped";
  // Its slots were taken for all it emitted (1 + 51 tokens), lookahead on top.
  EXPECT_EQ(r.blocks, Request::blocks_for(100 + 52 - 1 + 4, 16));
}

TEST(SpeculativeCostModel, AStepAtKTwoIsTheTargetOverThreeTokensAndTwoDraftPasses) {
  const ModelSpec& m = llama8b();
  const ClusterSpec cluster = test::test_cluster(1, 1);
  const RooflineParams p;
  const SpeculativeSpec spec = eagle(2, 0.8, m);
  auto target = std::make_unique<RooflineCostModel>(m, cluster.gpu, cluster.nvlink, 1, p);
  auto head = std::make_unique<RooflineCostModel>(*spec.draft, cluster.gpu, cluster.nvlink, 1, p);
  const RooflineCostModel bare(m, cluster.gpu, cluster.nvlink, 1, p),
      draft(*spec.draft, cluster.gpu, cluster.nvlink, 1, p);
  const SpeculativeCostModel cm(std::move(target), std::move(head), spec, "roofline");

  // 8 decodes at context 1000 verify 2 drafts each: 24 query tokens, logits at all 24.
  BatchShape s;
  s.num_decodes = 8;
  s.decode_queries = 3;
  s.decode_context_sum = 8 * 1000;
  s.layers = m.layers;
  s.sampled = 24;
  const IterationCost c = cm.iteration(s);
  // GEMMs at 3 x 8 tokens and the LM head at 24 rows: a 24-token batch's.
  BatchShape flat;
  flat.prefills.assign(8, PrefillChunk{3, 999});  // each decode's chunk: 3 tokens after 999 cached
  flat.layers = m.layers;
  flat.sampled = 24;
  const IterationCost f = bare.iteration(flat);
  EXPECT_DOUBLE_EQ(c.qkv, f.qkv);
  EXPECT_DOUBLE_EQ(c.mlp, f.mlp);
  EXPECT_DOUBLE_EQ(c.lm_head, f.lm_head);
  EXPECT_DOUBLE_EQ(c.lm_head, bare.gemm(24, m.hidden, m.vocab));
  // Attention: the chunk after context the prefill kernel prices, for those same 8 chunks.
  EXPECT_DOUBLE_EQ(c.attn_decode, f.attn_prefill);
  EXPECT_GT(c.attn_decode, bare.iteration([&] {
                                 BatchShape d = s;
                                 d.decode_queries = 1;
                                 d.sampled = 8;
                                 return d;
                               }())
                               .attn_decode)
      << "three queries a context cost more than one";
  // Host: a uniform batch of 24 tokens replays a CUDA graph; 8 sequences.
  EXPECT_DOUBLE_EQ(c.cpu, (p.graph_overhead_us + 8 * p.cpu_per_seq_us) * 1e-6);
  // The proposer: two passes of the one-layer head at batch 8, the second a token further on,
  // priced at their middle (context sum 8000 + 8 x 1 / 2), each with the full 128k LM head.
  BatchShape pass;
  pass.num_decodes = 8;
  pass.decode_context_sum = 8000 + 4;
  pass.layers = 1;
  pass.sampled = 8;
  const IterationCost one = draft.iteration(pass);
  EXPECT_DOUBLE_EQ(c.draft, 2 * (one.sum() - one.cpu));
  // EAGLE-1's LM head reads 128256 x 4096 bf16 weights (1.05 GB) a pass: about 0.37 ms on an
  // H100 at 85% of 3.35 TB/s, so the two passes cost at least 0.7 ms.
  EXPECT_NEAR(draft.gemm(8, m.hidden, m.vocab), 128256.0 * 4096 * 2 / (cluster.gpu.hbm_bytes_per_s * 0.85), 2e-5);
  EXPECT_GT(c.draft, 2 * draft.gemm(8, m.hidden, m.vocab));
  EXPECT_DOUBLE_EQ(c.sum(), c.qkv + c.attn_prefill + c.attn_decode + c.o_proj + c.mlp + c.lm_head + c.allreduce +
                                c.send + c.cpu + c.draft);
}

TEST(SpeculativeEngine, AdmissionReservesTheLookaheadSlots) {
  EngineParams e;
  e.block_size = 16;
  e.speculative = eagle(3, 0.7, llama8b());
  test::InstanceFixture f(llama8b(), RooflineParams{}, 1000, "vllm", 0, e);
  // A 32-token prompt fills two blocks; its lookahead (3 drafts + 3 slots) asks for a third.
  Request* r = f.add(1, 0, 32, 10);
  r->lookahead = static_cast<std::int16_t>(e.speculative.lookahead());
  r->emit_rate = static_cast<std::int32_t>(e.speculative.emit_rate());
  f.run_until({r}, 1, [] {});
  EXPECT_EQ(r->phase, Phase::Prefill);
  EXPECT_EQ(r->blocks, 3);
  EXPECT_EQ(f.inst->kv().used(), 3);
  // Without speculation the same prompt takes two.
  test::InstanceFixture plain(llama8b(), RooflineParams{}, 1000);
  Request* q = plain.add(1, 0, 32, 10);
  plain.run_until({q}, 1, [] {});
  EXPECT_EQ(q->blocks, 2);
  // To the end: 10 outputs at 2.19 a step, and every block comes back.
  f.run({});
  EXPECT_EQ(r->phase, Phase::Finished);
  EXPECT_EQ(r->generated, 10);
  EXPECT_EQ(f.inst->kv().used(), 0);
}

}  // namespace
}  // namespace kunsim
