// StageRelay: the KV re-lay of a KunServe group that grows from g to g' = k*g stages. Each old
// stage r is split among its own member (which keeps the stage's first layers and drops the
// rest) and k-1 new members; so the per-stage KV of the requests the group was serving must
// follow the layers it gave up: every old stage sends the pages of those layers to the new
// member that now owns them. The stages work at once (their member pairs share no GPU), a
// layer at a time, each layer its own transfer on the members' routes (as the KV exchange
// books them), while the group is blocked. Per request that moves blocks x block_bytes x
// (k-1)/k in all. When the last layer lands, `then` continues the growth: it returns true when
// another process (the exchange of the new members' stale requests) takes the group over, and
// false when the group is released.
#pragma once
#include <cstdint>
#include <functional>

#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class StageRelay final : public EventHandler {
 public:
  // `group` has g' = k * `from_stages` members in the grown order (old stage r is member r*k);
  // `relaid_blocks` is the per-stage KV (whole-model blocks) of the requests it serves.
  StageRelay(ReconfigurationHost& host, Engine& pipeline, int from_stages, std::int64_t relaid_blocks,
             std::function<bool(SimTime)> then, SimTime now)
      : host_(host), pipeline_(pipeline), from_(from_stages), blocks_(relaid_blocks), then_(std::move(then)), started_(now) {}
  void begin(SimTime now) { send_offset(now); }  // once the host holds it
  void handle_event(SimTime now, std::uint64_t arg) override;
  // Whether layer `layer` changes hands when g = `from_stages` grows to `to_stages`; if so, the
  // grown group's members that send (`from`, the old stage's member) and receive it (`to`).
  static bool layer_moves(int layer, int from_stages, int to_stages, int layers, int* from, int* to);

 private:
  void send_offset(SimTime now);
  void finish(SimTime now);
  ReconfigurationHost& host_;
  Engine& pipeline_;
  int from_;
  std::int64_t blocks_;
  std::function<bool(SimTime)> then_;
  SimTime started_;
  int offset_ = 0;  // the layer, counted from each old stage's first, in flight
  std::int64_t bytes_ = 0;
};

}  // namespace kunsim
