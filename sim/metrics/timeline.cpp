#include "sim/metrics/timeline.hpp"

namespace kunsim {

Timeline::Timeline(std::FILE* out) : out_(out) {
  if (out_) std::fputs("t_s,instance,state,kv_used_blocks,kv_total_blocks,kv_usage,running,waiting,swapped,host_swap_blocks\n", out_);
}

void Timeline::sample(SimTime now, const Instance& inst) {
  if (!out_) return;
  const std::int64_t used = inst.kv_used_at(now);
  const std::int64_t total = inst.kv().capacity();
  std::fprintf(out_, "%.3f,%d,%s,%lld,%lld,%.4f,%d,%d,%d,%lld\n", ns_to_seconds(now), inst.id(),
               inst.idle() ? "idle" : "serving", static_cast<long long>(used), static_cast<long long>(total),
               total ? static_cast<double>(used) / static_cast<double>(total) : 0.0, inst.running(), inst.waiting(),
               inst.swapped(), static_cast<long long>(inst.host_swap_used()));
}

}  // namespace kunsim
