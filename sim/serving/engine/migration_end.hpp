// MigrationEnd: either end of a Llumnix live migration on an engine. The source finds the
// decoding request and lets it go (blocks freed, outputs synced); the destination reserves the
// blocks before the copy starts and adopts the request when it lands. Owned by the engine; a
// Migration reaches it through ReconfigurationHost::migration_end.
#pragma once
#include <cstdint>

#include "sim/serving/engine/request.hpp"

namespace kunsim {

class Engine;

class MigrationEnd {
 public:
  explicit MigrationEnd(Engine& e) : e_(e) {}
  // The running request `id` (nullptr when it is no longer running here).
  Request* find_running(RequestId id) const;
  // Takes a settled decoding request out, syncing it and freeing its blocks.
  void release(Request* r);
  // Blocks held for an incoming request (counted as used until adopted or unreserved); false
  // when they would cut into the watermark.
  bool reserve(std::int64_t blocks);
  void unreserve(std::int64_t blocks);
  // A running request arrives, its blocks (counted in `r->blocks`) allocated here.
  void adopt(Request* r);

 private:
  Engine& e_;
};

}  // namespace kunsim
