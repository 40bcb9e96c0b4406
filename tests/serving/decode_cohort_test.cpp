#include "sim/serving/engine/decode_cohort.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>

#include "sim/core/rng.hpp"

namespace kunsim {
namespace {

// Step-by-step reference: each decode with g outputs needs ceil((prompt + g) / bs) blocks to
// run its step; count block allocations one step at a time.
std::int64_t brute_blocks(std::vector<Request> rs, std::int64_t k, int bs) {
  std::int64_t total = 0;
  for (std::int64_t s = 0; s < k; ++s)
    for (auto& r : rs) {
      const std::int64_t have = Request::blocks_for(std::int64_t{r.prompt} + r.generated - 1, bs);
      total += Request::blocks_for(std::int64_t{r.prompt} + r.generated, bs) - have;
      ++r.generated;
    }
  return total;
}

TEST(DecodeCohort, BlocksNeededMatchesStepByStep) {
  Rng rng(3);
  for (int bs : {1, 16, 256}) {
    std::deque<Request> store;
    std::vector<Request> copy;
    DecodeCohort c(bs);
    c.advance(rng.next_u64() % 1000);  // cohort step counter need not start at zero
    for (int i = 0; i < 50; ++i) {
      Request& r = store.emplace_back();
      r.id = i;
      r.prompt = 1 + static_cast<int>(rng.next_u64() % 3000);
      r.output = 2000;
      r.generated = 1 + static_cast<int>(rng.next_u64() % 500);
      r.ve = 0;
      copy.push_back(r);
      c.add(&r);
    }
    for (std::int64_t k : {0, 1, 2, 15, 16, 17, 100, 333})
      EXPECT_EQ(c.blocks_needed(k), brute_blocks(copy, k, bs)) << "bs " << bs << " k " << k;
    const std::int64_t fit = c.steps_fitting(123, 1000);
    EXPECT_LE(c.blocks_needed(fit), 123);
    EXPECT_GT(c.blocks_needed(fit + 1), 123);
  }
}

TEST(DecodeCohort, TracksOutputsContextAndFinishOrder) {
  DecodeCohort c(16);
  Request a, b;
  a.id = 1, a.prompt = 100, a.output = 10, a.generated = 1, a.ve = 0;
  b.id = 2, b.prompt = 50, b.output = 4, b.generated = 1, b.ve = 0;
  c.add(&a);
  c.add(&b);
  EXPECT_EQ(c.context_sum(), 101 + 51);
  EXPECT_EQ(c.steps_to_next_finish(), 3) << "b has 1 of 4 outputs: three more steps";
  c.advance(3);
  auto done = c.take_finished();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], &b);
  EXPECT_EQ(b.generated, 4);
  EXPECT_EQ(b.blocks, Request::blocks_for(50 + 4 - 1, 16));
  EXPECT_EQ(c.size(), 1);
  EXPECT_EQ(c.context_sum(), 104);
  c.sync(&a);
  EXPECT_EQ(a.generated, 4);
  EXPECT_EQ(c.steps_to_next_finish(), 6);
}

// A pipeline group's virtual engines are lanes: each counts its own decodes and contexts, and a
// lane that sits a step out falls one output behind, needing no block for that step.
TEST(DecodeCohort, LanesCountTheirOwnDecodesAndOneSitsOutAStep) {
  DecodeCohort c(16, 2);
  Request a, b, d;
  a.id = 1, a.prompt = 100, a.output = 10, a.generated = 1, a.ve = 0;
  b.id = 2, b.prompt = 48, b.output = 10, b.generated = 1, b.ve = 1;  // its next token opens block 4
  d.id = 3, d.prompt = 20, d.output = 4, d.generated = 2, d.ve = 1;
  for (Request* r : {&a, &b, &d}) c.add(r);
  EXPECT_EQ(c.lane_size(0), 1);
  EXPECT_EQ(c.lane_size(1), 2);
  EXPECT_EQ(c.lane_context_sum(0), 101);
  EXPECT_EQ(c.lane_context_sum(1), 49 + 22);
  EXPECT_EQ(c.blocks_needed(1), 1) << "b's 49th token opens a block";
  EXPECT_EQ(c.steps_to_next_finish(), 2) << "d has 2 of 4 outputs";
  c.sit_out(1);  // lane 1 runs a prefill-only step
  EXPECT_EQ(c.running(), 1);
  EXPECT_EQ(c.running_context_sum(), 101);
  EXPECT_EQ(c.blocks_needed(1), 0) << "b sits the step out";
  EXPECT_EQ(c.blocks_needed(2), 1);
  EXPECT_EQ(c.steps_to_next_finish(), 3);
  c.advance(1);
  EXPECT_FALSE(c.sitting_out(1));
  c.advance(1);
  c.sync(&a);
  c.sync(&b);
  EXPECT_EQ(a.generated, 3);
  EXPECT_EQ(b.generated, 2) << "one step sat out";
  EXPECT_EQ(c.lane_context_sum(0), 103);
  EXPECT_EQ(c.lane_context_sum(1), 50 + 23);
  EXPECT_EQ(c.context_sum(), c.lane_context_sum(0) + c.lane_context_sum(1));
  c.advance(1);
  const auto done = c.take_finished();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], &d);
  EXPECT_EQ(d.generated, 4);
  Request stray;
  stray.id = 4, stray.prompt = 5, stray.output = 3, stray.generated = 1, stray.ve = 2;
  EXPECT_THROW(c.add(&stray), std::logic_error) << "a virtual engine the group does not have";
}

}  // namespace
}  // namespace kunsim
