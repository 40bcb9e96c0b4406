#include "sim/serving/fleet/slot_ledger.hpp"

namespace kunsim {

void SlotLedger::share(const Engine& e, std::vector<SlotFigures>& slots) {
  const EngineCounters c = e.counters();
  const std::vector<Member>& members = e.members();
  const auto g = static_cast<std::int64_t>(members.size());
  SlotFigures& first = slots[static_cast<std::size_t>(members[0].slot)];
  EngineCounters counts = c;
  counts.busy_ns = SimDuration();
  first.credited += counts;
  const SimDuration share = c.busy_ns / g;
  for (const Member& m : members) {
    SlotFigures& s = slots[static_cast<std::size_t>(m.slot)];
    s.credited.busy_ns += share;
    if (g > 1) {
      s.fused_iterations += c.iterations;
      s.fused_busy += share;
    }
  }
  first.credited.busy_ns += c.busy_ns - share * g;  // the remainder, so the shares sum exactly
}

std::vector<SlotFigures> SlotLedger::with(const std::vector<Engine*>& live) const {
  std::vector<SlotFigures> out = slots_;
  for (const Engine* e : live) share(*e, out);
  return out;
}

EngineCounters SlotLedger::total(const std::vector<Engine*>& live) const {
  EngineCounters t = total_;
  for (const Engine* e : live) t += e->counters();
  return t;
}

}  // namespace kunsim
