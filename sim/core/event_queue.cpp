#include "sim/core/event_queue.hpp"

namespace kunsim {

EventId EventQueue::schedule(SimTime time, EventHandler* handler, std::uint64_t arg) {
  const std::uint64_t seq = next_seq_++;
  heap_.push(Event{time, seq, handler, arg});
  return EventId{seq, time};
}

void EventQueue::cancel(EventId id) {
  if (id.seq < next_seq_ && !gone(id)) cancelled_.insert(id.seq);
}

std::optional<SimTime> EventQueue::next_time() {
  while (!heap_.empty() && !cancelled_.empty() && cancelled_.erase(heap_.top().seq) > 0) {
    left(heap_.top());
    heap_.pop();
  }
  if (heap_.empty()) return std::nullopt;
  return heap_.top().time;
}

std::optional<Event> EventQueue::pop() {
  while (!heap_.empty()) {
    Event e = heap_.top();
    heap_.pop();
    left(e);
    if (!cancelled_.empty() && cancelled_.erase(e.seq) > 0) continue;
    return e;
  }
  return std::nullopt;
}

}  // namespace kunsim
