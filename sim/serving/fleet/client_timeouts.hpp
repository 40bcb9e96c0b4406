// ClientTimeouts: clients that give up (workload.client_timeout_s), which is what keeps a real
// overloaded server's queue finite. Every dispatched request gets the deadline arrival +
// timeout. One timeout for all means deadlines come in arrival order, so they wait in a FIFO
// with a single event armed for the oldest live one: no per-request event and no search.
// A request that ends first is skipped when it reaches the front (its pooled storage may hold
// another request by then: the id tells them apart), and the armed event is cancelled when its
// own request ends, so a finished run is never stretched out to a deadline nobody waits for.
#pragma once
#include <deque>
#include <optional>

#include "sim/core/event_queue.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class ServingCluster;

class ClientTimeouts final : public EventHandler {
 public:
  ClientTimeouts(ServingCluster& cluster, EventQueue& events, SimDuration timeout)
      : cluster_(cluster), events_(events), timeout_(timeout) {}
  // `r` was dispatched at r.arrival (arrivals come in time order).
  void watch(const Request& r);
  // `r` ended (finished or aborted); called before its storage goes back to the pool.
  void on_done(const Request& r);
  void handle_event(SimTime now, std::uint64_t arg) override;

 private:
  struct Entry {
    SimTime deadline;
    Request* request;
    RequestId id;
  };
  static bool live(const Entry& e);
  void arm();

  ServingCluster& cluster_;
  EventQueue& events_;
  SimDuration timeout_;
  std::deque<Entry> fifo_;
  std::optional<EventId> armed_;  // the event for fifo_.front(), while one is queued
};

}  // namespace kunsim
