// EventQueue: the one priority queue of the simulation kernel.
// Events are small values ordered by (time, seq): equal times run in insertion (FIFO) order, so
// a run never depends on heap internals. Cancelling marks an EventId; a cancelled event is
// skipped when it reaches the front. An EventId stays valid after its event has run: events
// leave in (time, seq) order, so one at or before the last to leave is gone, and cancelling it
// does nothing. Handlers are plain objects owned elsewhere.
#pragma once
#include <cstdint>
#include <optional>
#include <queue>
#include <unordered_set>
#include <vector>

#include "sim/core/sim_time.hpp"

namespace kunsim {

class EventHandler {
 public:
  virtual ~EventHandler() = default;
  // `arg` is the value given to schedule(); handlers use it to tell their own events apart.
  virtual void handle_event(SimTime now, std::uint64_t arg) = 0;
};

struct EventId {
  std::uint64_t seq = 0;
  SimTime time = kSimTimeZero;
};

struct Event {
  SimTime time;
  std::uint64_t seq;
  EventHandler* handler;
  std::uint64_t arg;
};

// The (time, seq) order, written once. True when `a` runs before `b`.
inline bool event_before(const Event& a, const Event& b) {
  return a.time != b.time ? a.time < b.time : a.seq < b.seq;
}

class EventQueue {
 public:
  EventId schedule(SimTime time, EventHandler* handler, std::uint64_t arg = 0);
  void cancel(EventId id);
  // Puts back an event pop() just returned, unrun (same time and seq, so the same order).
  void requeue(const Event& e) {
    heap_.push(e);
    last_left_ = before_last_;
    left_any_ = before_any_;
  }
  // Removes and returns the next live event, or nullopt when none is left.
  std::optional<Event> pop();
  // Time of the next live event, without removing it.
  std::optional<SimTime> next_time();
  bool empty() const { return heap_.size() == cancelled_.size(); }
  std::size_t size() const { return heap_.size() - cancelled_.size(); }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return event_before(b, a); }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  // Whether the event (time, seq) has already left the queue (run, or skipped as cancelled).
  bool gone(const EventId& id) const {
    return left_any_ && (id.time != last_left_.time ? id.time < last_left_.time : id.seq <= last_left_.seq);
  }
  void left(const Event& e) {
    before_last_ = last_left_;
    before_any_ = left_any_;
    last_left_ = e;
    left_any_ = true;
  }
  std::unordered_set<std::uint64_t> cancelled_;  // pending and cancelled; looked up, never iterated
  std::uint64_t next_seq_ = 0;
  Event last_left_{}, before_last_{};  // before_last_: for requeue()
  bool left_any_ = false, before_any_ = false;
};

}  // namespace kunsim
