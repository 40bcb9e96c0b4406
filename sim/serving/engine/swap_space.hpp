// SwapSpace: an instance's host memory for swapped-out KV (vLLM's swap_space, per GPU) and the
// PCIe copies that move KV out to it and back. Each GPU of the TP group moves its own heads'
// share over its own PCIe link, in parallel, booked on the link scheduler.
#pragma once
#include <cstdint>
#include <unordered_map>

#include "sim/serving/engine/member.hpp"
#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

class SwapSpace {
 public:
  explicit SwapSpace(std::int64_t capacity_blocks) : capacity_(capacity_blocks) {}
  std::int64_t capacity() const { return capacity_; }
  std::int64_t used() const { return used_; }
  bool fits(std::int64_t blocks) const { return used_ + blocks <= capacity_; }
  // Host blocks swapping `r` out takes: its private blocks, and the blocks of its cached prefix
  // keys (Request::cached_keys) not on the host already. A shared prefix block is copied out
  // once, however many swapped requests hold it.
  std::int64_t blocks_to_swap_out(const Request& r) const;
  // Books the copy of `r`'s KV (blocks_to_swap_out) of `member` to the host from `now`; returns
  // when it ends. The host side is held until swap_in() or release().
  SimTime swap_out(const ServingContext& ctx, const Member& member, const Request& r, SimTime now);
  // Frees `r`'s host blocks, copying `copied` back (a cached prefix still on the GPU needs none).
  SimTime swap_in(const ServingContext& ctx, const Member& member, const Request& r, std::int64_t copied, SimTime now);
  void release(const Request& r);
  void clear() {
    used_ = 0;
    prefix_holders_.clear();
  }

 private:
  SimTime copy(const ServingContext& ctx, const Member& member, std::int64_t blocks, bool to_host, SimTime now) const;
  std::int64_t capacity_, used_ = 0;
  std::unordered_map<std::uint64_t, int> prefix_holders_;  // prefix key -> swapped requests holding it
};

}  // namespace kunsim
