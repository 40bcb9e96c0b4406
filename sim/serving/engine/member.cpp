#include "sim/serving/engine/member.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace kunsim {

std::int64_t pool_blocks(const std::vector<Member>& members) {
  if (members.size() == 1) return members[0].capacity();
  const auto g = static_cast<std::int64_t>(members.size());
  std::int64_t room = std::numeric_limits<std::int64_t>::max(), stale = 0;
  for (const Member& m : members) {
    room = std::min(room, m.capacity() - m.stale_blocks);
    stale += m.stale_blocks;
  }
  return g * room + stale;
}

std::int64_t base_blocks(const std::vector<Member>& members) {
  std::int64_t b = 0;
  for (const Member& m : members) b += m.base_blocks;
  return b;
}

std::int64_t member_blocks(const std::vector<Member>& members, int m, std::int64_t used) {
  if (members.size() == 1) return used;
  std::int64_t stale = 0;
  for (const Member& x : members) stale += x.stale_blocks;
  const auto g = static_cast<std::int64_t>(members.size());
  return members[m].stale_blocks + (used - stale + g - 1) / g;
}

void check_members_fit(const std::vector<Member>& members, const ModelSpec& m, const MemoryPlan& plan, int tp,
                       int engine_id) {
  const int g = static_cast<int>(members.size());
  for (int r = 0; r < g; ++r) {
    const std::int64_t weights =
        m.layers_weight_bytes_per_gpu(stage_first_layer(r, g, m.layers), stage_layers(r, g, m.layers), tp) +
        m.embedding_weight_bytes() / tp + plan.draft_weight_bytes;
    const std::int64_t total = weights + members[r].capacity() * plan.block_bytes + plan.workspace_bytes + plan.reserve_bytes;
    if (plan.usable_bytes > 0 && total > plan.usable_bytes)
      throw std::logic_error("Engine " + std::to_string(engine_id) + " member " + std::to_string(r) + ": " +
                             std::to_string(total) + " bytes planned on a GPU with " + std::to_string(plan.usable_bytes) +
                             " usable");
  }
}

}  // namespace kunsim
