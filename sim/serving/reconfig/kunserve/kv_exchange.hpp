// KvExchange: KunServe's blocking KV exchange after a drop (stale_kv=blocking-exchange, the
// reference's reshard). Stale requests (running at the fusion) hold KV for all layers on their
// home member; each stage needs the KV of its own layers. The group runs nothing while, in
// rounds of `batch` requests back to back, layer by layer, every home sends that layer's pages
// to the stage that owns it: per request blocks x block_bytes x (g-1)/g in all. When a round
// ends its requests are laid out per stage; the group runs again when the last round ends.
// A round's `batch` counts requests: the reference's exchange routine (_reshard_blocks_batched)
// takes up to exchange_batch_size requests a round, to bound a scratch buffer of layers x
// requests x pages, although its command-line help calls the value blocks.
// The live modes exchange within the group's steps instead (StepExchange).
#pragma once
#include <cstdint>
#include <vector>

#include "sim/serving/reconfig/kunserve/step_exchange.hpp"
#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class KvExchange final : public EventHandler {
 public:
  KvExchange(ReconfigurationHost& host, Engine& pipeline, const StepExchangeSettings& s, SimTime now)
      : host_(host),
        pipeline_(pipeline),
        port_(host.pipeline_port(pipeline)),
        batch_(s.batch),
        path_(s.path),
        started_(now) {}
  void begin(SimTime now) { start_round(now); }  // once the host holds it
  void handle_event(SimTime now, std::uint64_t arg) override;

 private:
  void start_round(SimTime now);
  void send_layer(SimTime now);
  ReconfigurationHost& host_;
  Engine& pipeline_;
  PipelinePort& port_;
  int batch_;
  ExchangePath path_;
  SimTime started_;
  std::vector<RequestId> round_;
  int layer_ = 0;
  std::int64_t bytes_ = 0;
  std::int64_t requests_ = 0;
};

}  // namespace kunsim
