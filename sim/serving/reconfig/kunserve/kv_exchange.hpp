// KvExchange: KunServe's coordinated KV exchange after a drop. Stale requests (running at the
// fusion) hold KV for all layers on their home member; each stage needs the KV of its own
// layers. In rounds of `batch` requests, layer by layer, every home sends that layer's pages
// to the stage that owns it: per request blocks x block_bytes x (g-1)/g in all. Each layer is
// its own transfer, so pipeline activations booked on the same links get in between layers.
// When a round ends its requests are laid out per stage (no more remote attention). A blocking
// exchange's group runs again when the last round ends.
// Pacing, as the reference's live exchange (LIVE_RESHARD_INTERVAL = 0.25 s): a round starts
// every `interval`, or when the previous one ends if that is later; 0 runs rounds back to back.
// A round's `batch` counts requests: the reference's exchange routine (_reshard_blocks_batched)
// takes up to exchange_batch_size requests a round, to bound a scratch buffer of layers x
// requests x pages, although its command-line help calls the value blocks.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class KvExchange final : public EventHandler {
 public:
  KvExchange(ReconfigurationHost& host, Engine& pipeline, int batch, SimDuration interval, SimTime now)
      : host_(host), pipeline_(pipeline), port_(host.pipeline_port(pipeline)), batch_(batch), interval_(interval), started_(now) {}
  void begin(SimTime now) { start_round(now); }  // once the host holds it
  void handle_event(SimTime now, std::uint64_t arg) override;

 private:
  void start_round(SimTime now);
  void send_layer(SimTime now);
  ReconfigurationHost& host_;
  Engine& pipeline_;
  PipelinePort& port_;
  int batch_;
  SimDuration interval_;
  SimTime started_;
  SimTime round_started_ = kNoTime;  // the latest round's start (kNoTime: none yet)
  std::vector<RequestId> round_;
  int layer_ = 0;
  std::int64_t bytes_ = 0;
  std::int64_t requests_ = 0;
};

}  // namespace kunsim
