#include "sim/core/event_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace kunsim {
namespace {

struct Recorder : EventHandler {
  std::vector<std::pair<SimTime, std::uint64_t>> seen;
  void handle_event(SimTime now, std::uint64_t arg) override { seen.emplace_back(now, arg); }
};

void drain(EventQueue& q) {
  while (auto e = q.pop()) e->handler->handle_event(e->time, e->arg);
}

TEST(EventQueue, OrdersByTimeThenInsertion) {
  EventQueue q;
  Recorder r;
  q.schedule(at_ns(30), &r, 1);
  q.schedule(at_ns(10), &r, 2);
  q.schedule(at_ns(20), &r, 3);
  q.schedule(at_ns(10), &r, 4);  // same time as arg 2: must run after it (FIFO)
  q.schedule(at_ns(10), &r, 5);
  drain(q);
  const std::vector<std::pair<SimTime, std::uint64_t>> want = {{at_ns(10), 2}, {at_ns(10), 4}, {at_ns(10), 5}, {at_ns(20), 3}, {at_ns(30), 1}};
  EXPECT_EQ(r.seen, want);
}

TEST(EventQueue, FifoAtEqualTimesSurvivesManyEvents) {
  EventQueue q;
  Recorder r;
  for (std::uint64_t i = 0; i < 1000; ++i) q.schedule(at_ns(static_cast<std::int64_t>(i % 3)), &r, i);
  drain(q);
  ASSERT_EQ(r.seen.size(), 1000u);
  for (std::size_t i = 1; i < r.seen.size(); ++i) {
    const auto& a = r.seen[i - 1];
    const auto& b = r.seen[i];
    ASSERT_TRUE(a.first < b.first || (a.first == b.first && a.second < b.second)) << "at " << i;
  }
}

TEST(EventQueue, CancelledEventsAreSkipped) {
  EventQueue q;
  Recorder r;
  q.schedule(at_ns(5), &r, 1);
  const EventId id = q.schedule(at_ns(6), &r, 2);
  q.schedule(at_ns(7), &r, 3);
  EXPECT_EQ(q.size(), 3u);
  q.cancel(id);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.next_time(), at_ns(5));
  drain(q);
  const std::vector<std::pair<SimTime, std::uint64_t>> want = {{at_ns(5), 1}, {at_ns(7), 3}};
  EXPECT_EQ(r.seen, want);
  EXPECT_TRUE(q.empty());
}

TEST(EventQueue, AnEventIdStaysValidAfterItsEventRan) {
  EventQueue q;
  Recorder r;
  const EventId first = q.schedule(at_ns(5), &r, 1);
  const EventId same_time = q.schedule(at_ns(5), &r, 2);
  q.schedule(at_ns(9), &r, 3);
  ASSERT_TRUE(q.pop());  // (5, first) ran
  q.cancel(first);       // gone: nothing to cancel
  EXPECT_EQ(q.size(), 2u);
  q.cancel(same_time);   // still pending at the same time: cancelled
  q.cancel(same_time);   // twice is once
  EXPECT_EQ(q.size(), 1u);
  const EventId later = q.schedule(at_ns(5), &r, 4);  // scheduled at the current time after the pop
  EXPECT_EQ(q.size(), 2u);
  drain(q);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  q.cancel(later);  // ran: size stays 0
  q.cancel(same_time);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  const std::vector<std::pair<SimTime, std::uint64_t>> want = {{at_ns(5), 4}, {at_ns(9), 3}};
  EXPECT_EQ(r.seen, want);
}

TEST(EventQueue, ComparisonIsWrittenOnce) {
  EXPECT_TRUE(event_before(Event{at_ns(1), 9, nullptr, 0}, Event{at_ns(2), 0, nullptr, 0}));
  EXPECT_TRUE(event_before(Event{at_ns(1), 0, nullptr, 0}, Event{at_ns(1), 1, nullptr, 0}));
  EXPECT_FALSE(event_before(Event{at_ns(1), 1, nullptr, 0}, Event{at_ns(1), 1, nullptr, 0}));
}

}  // namespace
}  // namespace kunsim
