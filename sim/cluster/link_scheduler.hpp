// LinkScheduler: occupancy of the topology's links by transfers.
// Model: a transfer reserves every link of its route from the moment all of them are free
// (first come, first served per link) and holds them for sum(latency) + bytes / (slowest link's
// bandwidth): cut-through, not store-and-forward, and no sharing of a link by two transfers
// at once. Simple and deterministic; contention shows up as queueing delay on busy links.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/cluster/topology.hpp"
#include "sim/core/sim_time.hpp"

namespace kunsim {

struct TransferTiming {
  SimTime start = kSimTimeZero;
  SimTime end = kSimTimeZero;
};

class LinkScheduler {
 public:
  explicit LinkScheduler(const Topology& topo);
  // Books a transfer of `bytes` over `route` no earlier than `earliest`; returns when it runs.
  TransferTiming reserve(const Route& route, std::int64_t bytes, SimTime earliest);
  // Duration of a transfer on an idle route.
  SimDuration duration(const Route& route, std::int64_t bytes) const;
  std::int64_t bytes_moved(LinkId id) const { return bytes_[id]; }
  // Called for every booked transfer, link by link (for traces); may be empty.
  std::function<void(LinkId, SimTime start, SimTime end, std::int64_t bytes)> on_transfer;
  SimDuration busy_ns(LinkId id) const { return busy_ns_[id]; }

 private:
  const Topology& topo_;
  std::vector<SimTime> free_at_;
  std::vector<std::int64_t> bytes_;
  std::vector<SimDuration> busy_ns_;
};

}  // namespace kunsim
