#include "sim/serving/engine/migration_end.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/serving/engine/engine.hpp"

namespace kunsim {

bool MigrationEnd::reserve(std::int64_t blocks) { return e_.reserve_blocks(blocks); }
void MigrationEnd::unreserve(std::int64_t blocks) { e_.unreserve_blocks(blocks); }
void MigrationEnd::adopt(Request* r) { e_.adopt_running(r); }

Request* MigrationEnd::find_running(RequestId id) const {
  for (Request* r = e_.running_.front(); r; r = r->next)
    if (r->id == id) return r;
  return nullptr;
}

void MigrationEnd::release(Request* r) {
  if (e_.busy_ || r->phase != Phase::Decode || r->stale())
    throw std::logic_error("Engine: migrating a request that is not a settled decode");
  e_.leave_cohort(r);
  e_.unbind_ve(r);
  e_.let_go_prefix(r);  // the destination holds them (bringing what it lacks)
  e_.running_.erase(r);
  e_.kv_.release(r->blocks);
}

}  // namespace kunsim
