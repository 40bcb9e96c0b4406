#include "sim/cluster/link_scheduler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kunsim {

LinkScheduler::LinkScheduler(const Topology& topo)
    : topo_(topo), free_at_(topo.num_links(), kSimTimeZero), bytes_(topo.num_links(), 0), busy_ns_(topo.num_links()) {}

SimDuration LinkScheduler::duration(const Route& route, std::int64_t bytes) const {
  SimDuration latency;
  double slowest = 0;
  for (LinkId id : route) {
    const TopoEdge& e = topo_.link(id);
    latency += SimDuration::from_ns(e.latency_ns);
    slowest = slowest == 0 ? e.bytes_per_s : std::min(slowest, e.bytes_per_s);
  }
  if (route.empty()) return {};
  return latency + SimDuration::from_ns(static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) / slowest * 1e9)));
}

TransferTiming LinkScheduler::reserve(const Route& route, std::int64_t bytes, SimTime earliest) {
  // Invariant: transfers travel only on links the topology has.
  if (route.empty() || bytes < 0) throw std::logic_error("LinkScheduler: empty route or negative bytes");
  for (LinkId id : route)
    if (id < 0 || id >= topo_.num_links()) throw std::logic_error("LinkScheduler: transfer on a link that does not exist");
  SimTime start = earliest;
  for (LinkId id : route) start = std::max(start, free_at_[id]);
  const SimTime end = start + duration(route, bytes);
  for (LinkId id : route) {
    free_at_[id] = end;
    bytes_[id] += bytes;
    busy_ns_[id] += end - start;
    if (on_transfer) on_transfer(id, start, end, bytes);
  }
  return {start, end};
}

}  // namespace kunsim
