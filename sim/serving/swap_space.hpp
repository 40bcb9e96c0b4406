// SwapSpace: an instance's host memory for swapped-out KV (vLLM's swap_space, per GPU) and the
// PCIe copies that move KV out to it and back. Each GPU of the TP group moves its own heads'
// share over its own PCIe link, in parallel, booked on the link scheduler.
#pragma once
#include <cstdint>

#include "sim/serving/member.hpp"
#include "sim/serving/serving_context.hpp"

namespace kunsim {

class SwapSpace {
 public:
  explicit SwapSpace(std::int64_t capacity_blocks) : capacity_(capacity_blocks) {}
  std::int64_t capacity() const { return capacity_; }
  std::int64_t used() const { return used_; }
  bool fits(std::int64_t blocks) const { return used_ + blocks <= capacity_; }
  // Books the copy of `blocks` KV blocks of `member` to the host (out) or back (in) from `now`;
  // returns when it ends. The host side is held from a swap-out until release().
  SimTime swap_out(const ServingContext& ctx, const Member& member, std::int64_t blocks, SimTime now);
  // Frees `held` host blocks, copying `copied` of them back (a cached prefix still on the GPU
  // needs no copy).
  SimTime swap_in(const ServingContext& ctx, const Member& member, std::int64_t held, std::int64_t copied, SimTime now);
  void release(std::int64_t blocks) { used_ -= blocks; }
  void clear() { used_ = 0; }

 private:
  SimTime copy(const ServingContext& ctx, const Member& member, std::int64_t blocks, bool to_host, SimTime now) const;
  std::int64_t capacity_, used_ = 0;
};

}  // namespace kunsim
