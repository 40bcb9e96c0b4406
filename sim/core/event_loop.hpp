// EventLoop: the simulation kernel's main loop, shared by every run and by the tests. It pops
// events in (time, seq) order until none is left or the next one lies past the horizon, refuses
// time that goes backwards, and calls `after` once per event (where invariants are checked).
// Every 4096 events it looks for a recorded signal (sim/core/interruption.hpp) and throws
// Interrupted, so Ctrl-C stops a long run within microseconds and its outputs are cleaned up.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "sim/core/event_queue.hpp"
#include "sim/core/interruption.hpp"

namespace kunsim {

class EventLoop {
 public:
  explicit EventLoop(EventQueue& events) : events_(events) {}

  // Returns when the queue is empty (now(): the last event's time) or the next event is past
  // `horizon` (now(): the horizon; that event stays queued, so a later run() goes on from it).
  template <class After>
  void run(SimTime horizon, After after) {
    while (const auto next = events_.pop()) {
      const Event& e = *next;
      if (e.time > horizon) {
        events_.requeue(e);
        now_ = horizon;
        return;
      }
      if (e.time < now_) throw std::logic_error("event loop: time went backwards");
      now_ = e.time;
      if (++processed_ % kInterruptCheckEvents == 0) throw_if_interrupted();
      e.handler->handle_event(now_, e.arg);
      after();
    }
  }
  void run(SimTime horizon = kSimTimeMax) {
    run(horizon, [] {});
  }

  SimTime now() const { return now_; }
  std::int64_t processed() const { return processed_; }

 private:
  static constexpr std::int64_t kInterruptCheckEvents = 4096;
  EventQueue& events_;
  SimTime now_ = kSimTimeZero;
  std::int64_t processed_ = 0;
};

}  // namespace kunsim
