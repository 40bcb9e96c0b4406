#include "sim/serving/engine/swap_space.hpp"

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

std::int64_t SwapSpace::blocks_to_swap_out(const Request& r) const {
  std::int64_t n = r.blocks;
  for (int k = 0; k < r.cached_keys; ++k) n += prefix_holders_.count(r.prefix[k]) ? 0 : r.prefix_unit;
  return n;
}

SimTime SwapSpace::swap_out(const ServingContext& ctx, const Member& member, const Request& r, SimTime now) {
  const std::int64_t blocks = blocks_to_swap_out(r);
  used_ += blocks;
  for (int k = 0; k < r.cached_keys; ++k) ++prefix_holders_[r.prefix[k]];
  return copy(ctx, member, blocks, true, now);
}

SimTime SwapSpace::swap_in(const ServingContext& ctx, const Member& member, const Request& r, std::int64_t copied,
                           SimTime now) {
  release(r);
  return copy(ctx, member, copied, false, now);
}

void SwapSpace::release(const Request& r) {
  used_ -= r.blocks;
  for (int k = 0; k < r.cached_keys; ++k) {
    auto it = prefix_holders_.find(r.prefix[k]);
    if (--it->second > 0) continue;
    prefix_holders_.erase(it);
    used_ -= r.prefix_unit;
  }
}

}  // namespace kunsim
