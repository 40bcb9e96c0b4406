#include "sim/serving/swap_space.hpp"

#include <algorithm>

namespace kunsim {

SimTime SwapSpace::copy(const ServingContext& ctx, const Member& member, std::int64_t blocks, bool to_host,
                        SimTime now) const {
  const std::int64_t bytes = blocks * ctx.memory->block_bytes;
  SimTime end = now;
  for (int g : member.gpus) {
    const Route& route = to_host ? ctx.topology->gpu_to_host(g) : ctx.topology->host_to_gpu(g);
    end = std::max(end, ctx.links->reserve(route, bytes, now).end);
  }
  return end;
}

SimTime SwapSpace::swap_out(const ServingContext& ctx, const Member& member, std::int64_t blocks, SimTime now) {
  used_ += blocks;
  return copy(ctx, member, blocks, true, now);
}

SimTime SwapSpace::swap_in(const ServingContext& ctx, const Member& member, std::int64_t held, std::int64_t copied,
                           SimTime now) {
  used_ -= held;
  return copy(ctx, member, copied, false, now);
}

}  // namespace kunsim
