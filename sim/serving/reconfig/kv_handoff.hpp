// KvHandoffs: the prefill -> decode hand-offs of a disaggregated fleet (DistServe, Splitwise,
// vLLM's disaggregated prefill). A prefill instance computes a prompt and its first token,
// then offers the request here while still holding its KV (phase Handoff). A decode instance
// is chosen, least KV load first among those whose group can hold the request, and the whole
// KV it will need is reserved there; with no room anywhere the request waits, first come first
// served, and is retried whenever a decode instance frees memory. Then the KV moves over the
// topology's links (NVLink within a node, the network across), booked on the link scheduler.
// Blocks of its cached prefix the decode instance already holds are not sent (vLLM's connector
// counts the local prefix hits). Between different TP degrees the KV is re-sharded by KV head:
// each decode rank pulls its heads from the prefill ranks holding them (reshard_flows).
// `whole` transfers start after the prefill; `layerwise` ones stream each layer as it is
// computed, from the start of the prefill's last iteration, ending no sooner than the last
// layer's share after the prefill. When the KV has arrived the prefill side frees it and the
// decode instance emits the first token and decodes: TTFT includes the transfer, as a client of
// a disaggregated deployment sees it. Each hand-off is a `handoff` row in decisions.jsonl.
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "sim/core/event_queue.hpp"
#include "sim/serving/engine/request.hpp"

namespace kunsim {

class Engine;
class ReconfigurationHost;

// One rank-to-rank piece of a re-sharded KV transfer: `share` of the request's KV (all heads,
// all layers) goes from prefill rank `from` to decode rank `to`.
struct ReshardFlow {
  int from = 0, to = 0;
  double share = 0;
};
// The flows moving KV of `kv_heads` heads from TP `from_tp` to TP `to_tp`: every decode rank
// gets the heads it stores (replicated heads once per rank that stores them), each from a
// prefill rank holding it, spreading the senders of a replicated head over its holders.
std::vector<ReshardFlow> reshard_flows(int kv_heads, int from_tp, int to_tp);

struct HandoffStats {
  std::int64_t handoffs = 0, waited = 0, aborted = 0;
  std::int64_t bytes = 0;
  std::vector<double> wait_s, transfer_s;  // per hand-off: queued for room, KV moving
};

class KvHandoffs final : public EventHandler {
 public:
  KvHandoffs(ReconfigurationHost& host, bool layerwise) : host_(host), layerwise_(layerwise) {}

  // `r` finished prefilling on `prefill` at `now` (its last iteration began at `started`).
  void offer(Engine& prefill, Request* r, SimTime started, SimTime now);
  // A decode instance freed memory: the queue is retried at `now` (in an event of its own).
  void wake(SimTime now);
  void handle_event(SimTime now, std::uint64_t arg) override;

  std::size_t queued() const { return queue_.size(); }
  std::size_t in_flight() const { return flights_.size(); }
  const HandoffStats& stats() const { return stats_; }

 private:
  struct Pending {
    Request* r;
    RequestId id;
    int from;
    SimTime prefilled, started;
  };
  struct Flight {
    Pending p;
    int to;
    std::int64_t reserved;
    std::int64_t bytes, blocks;
    SimTime begin;
  };
  // Starts `p`'s transfer if some decode instance can reserve its KV now.
  bool try_start(const Pending& p, SimTime now);
  void arrive(Flight& f, SimTime now);
  // reshard_flows, worked out once per pair of TP degrees (the model is the run's).
  const std::vector<ReshardFlow>& flows(int kv_heads, int from_tp, int to_tp);

  ReconfigurationHost& host_;
  bool layerwise_;
  std::deque<Pending> queue_;
  std::map<std::uint64_t, Flight> flights_;  // by event tag
  std::map<std::pair<int, int>, std::vector<ReshardFlow>> flows_;  // by (prefill TP, decode TP)
  std::uint64_t next_tag_ = 1;               // 0 is the retry event
  bool retry_pending_ = false;
  HandoffStats stats_;
};

}  // namespace kunsim
