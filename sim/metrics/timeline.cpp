#include "sim/metrics/timeline.hpp"

#include <algorithm>
#include <string>

namespace kunsim {

Timeline::Timeline(std::FILE* out) : out_(out) {
  if (out_) std::fputs("t_s,instance,state,kv_used_blocks,kv_total_blocks,kv_usage,running,waiting,swapped,host_swap_blocks,kv_shared_blocks,kv_cached_blocks\n", out_);
}

void Timeline::sample(SimTime now, int slot, const Engine& e, int member) {
  if (!out_) return;
  const std::int64_t used = e.member_used_at(member, now);
  const std::int64_t total = e.stages() == 1 ? e.kv().capacity() : e.members()[member].capacity();
  std::string state = e.idle() ? "idle" : "serving";
  if (e.stages() > 1)
    state = e.state() + ":g" + std::to_string(e.stages()) + ":stage" + std::to_string(member) + ":engine" +
            std::to_string(e.id());
  // A group's requests are counted once, on its first member's row, so columns sum over slots;
  // memory is per GPU, so every member's row has its own.
  const bool counts = member == 0;
  // Prefix caching: cached blocks held (shared, within kv_used_blocks) and cached blocks nobody
  // holds (evictable, counted free); a group's are spread over its stages.
  const auto per_gpu = [&](std::int64_t blocks) { return (blocks + e.stages() - 1) / e.stages(); };
  std::fprintf(out_, "%.3f,%d,%s,%lld,%lld,%.4f,%d,%d,%d,%lld,%lld,%lld\n", ns_to_seconds(now), slot, state.c_str(),
               static_cast<long long>(used), static_cast<long long>(total),
               total ? static_cast<double>(used) / static_cast<double>(total) : 0.0, counts ? e.running() : 0,
               counts ? e.waiting() : 0, counts ? e.swapped() : 0, static_cast<long long>(counts ? e.host_swap_used() : 0),
               static_cast<long long>(per_gpu(e.kv().prefixes().in_use())), static_cast<long long>(std::max<std::int64_t>(0, std::min(per_gpu(e.kv_cached_at(now)), total - used))));
}

}  // namespace kunsim
