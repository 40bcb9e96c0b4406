#include "sim/serving/reconfig/kunserve/drop_work.hpp"

namespace kunsim {

void DropWork::begin(SimTime now) {
  host_.pipeline_port(pipeline_).set_blocked(true, now);
  host_.context().events->schedule(now + latency_, this);
}

void DropWork::handle_event(SimTime now, std::uint64_t) {
  host_.log(
      Decision{now,
               DecisionKind::Drop,
               DecisionPhase::Done,
               {{"instance", pipeline_.id()},
                {"duration_s", ns_to_seconds(latency_)},
                {"reason", "engines merged, dropped layers unmapped, free blocks converted (policy.drop_latency_s)"}}});
  // As StageRelay: `then` may start the next process; done() last.
  const bool handed_over = then_(now);
  if (handed_over)
    host_.done(this, {});
  else
    host_.done(this, {pipeline_.id()});
}

}  // namespace kunsim
