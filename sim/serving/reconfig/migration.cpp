#include "sim/serving/reconfig/migration.hpp"

#include <algorithm>

namespace kunsim {

std::unique_ptr<Migration> Migration::start(ReconfigurationHost& host, Engine& src, RequestId id, Engine& dst,
                                            SimTime now) {
  Request* r = host.migration_end(src).find_running(id);
  if (!r || r->phase != Phase::Decode) return nullptr;
  src.sync(r);
  // Its cached prefix is copied only where the destination lacks it.
  const std::int64_t prefix = dst.kv().blocks_to_hold(*r, r->cached_keys);
  const std::int64_t copied = r->blocks + dst.kv().prefixes().missing_blocks_in(r->prefix.data(), r->cached_keys,
                                                                                 r->prefix_unit, 0);
  const std::int64_t reserve = r->blocks + prefix + r->blocks / 8 + 2;  // room for what it writes meanwhile
  if (!host.migration_end(dst).reserve(reserve)) return nullptr;
  std::unique_ptr<Migration> m(new Migration(host, src.id(), dst.id(), id));
  m->reserved_ = reserve;
  m->first_blocks_ = r->blocks;
  m->started_ = now;
  const ServingContext& ctx = src.context();  // both ends are of one instance group
  const SimTime end = transfer_between(*ctx.links, *ctx.topology, src.members()[0], dst.members()[0],
                                       copied * ctx.memory->block_bytes, now);
  host.log(Decision{now, DecisionKind::Migrate, DecisionPhase::Begin, {{"request", id}, {"from", src.id()}, {"to", dst.id()},
            {"blocks", r->blocks}, {"reason", "stage 1: copying KV while it decodes"}}});
  ctx.events->schedule(end, m.get());
  return m;
}

void Migration::handle_event(SimTime now, std::uint64_t) {
  // Stage 1 (the bulk of the KV) is copied; pause both ends at a step boundary for the rest.
  auto pending = std::make_shared<int>(2);
  auto both = [this, pending](SimTime t) {
    if (--*pending == 0) finish(t);
  };
  host_.instance(src_)->pause(now, both);
  host_.instance(dst_)->pause(now, both);
}

void Migration::finish(SimTime now) {
  Engine& s = *host_.instance(src_);
  Engine& d = *host_.instance(dst_);
  MigrationEnd& from = host_.migration_end(s);
  MigrationEnd& to = host_.migration_end(d);
  to.unreserve(reserved_);
  Request* r = from.find_running(id_);
  std::string outcome = "aborted: the request finished or was preempted meanwhile";
  if (r && r->phase == Phase::Decode && !r->stale()) {
    from.release(r);  // syncs its blocks
    if (d.kv().free() >= r->blocks + d.kv().blocks_to_hold(*r, r->cached_keys)) {
      // The last stage: blocks written since stage 1 began; the request moves after it.
      const std::int64_t delta = std::max<std::int64_t>(0, r->blocks - first_blocks_);
      const ServingContext& ctx = s.context();
      transfer_between(*ctx.links, *ctx.topology, s.members()[0], d.members()[0], delta * ctx.memory->block_bytes, now);
      to.adopt(r);
      outcome = "done";
    } else {
      from.adopt(r);
      outcome = "aborted: destination filled up";
    }
  }
  host_.log(Decision{now, DecisionKind::Migrate, DecisionPhase::End, {{"request", id_}, {"from", src_}, {"to", dst_},
             {"duration_s", ns_to_seconds(now - started_)}, {"reason", outcome}}});
  s.resume(now);
  d.resume(now);
  host_.done(this, {src_, dst_});
}

}  // namespace kunsim
