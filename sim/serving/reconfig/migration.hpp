// Migration: Llumnix's live migration of one decoding request and its KV between instances.
// Stage 1 copies the KV it has while it keeps decoding (blocks reserved on the destination);
// then both ends pause at a step boundary and only the blocks written meanwhile move, after
// which the request decodes on the destination. If it finished or was preempted meanwhile, or
// the destination filled up, the migration is aborted and logged as such.
#pragma once
#include "sim/serving/reconfig/reconfiguration.hpp"

namespace kunsim {

class Migration final : public EventHandler {
 public:
  // Starts stage 1 now; false (nothing started) when `id` is not a decode on `src` or `dst`
  // cannot reserve room for it.
  static std::unique_ptr<Migration> start(ReconfigurationHost& host, Engine& src, RequestId id, Engine& dst,
                                          SimTime now);
  void handle_event(SimTime now, std::uint64_t arg) override;

 private:
  Migration(ReconfigurationHost& host, int src, int dst, RequestId id) : host_(host), src_(src), dst_(dst), id_(id) {}
  void finish(SimTime now);

  ReconfigurationHost& host_;
  int src_, dst_;
  RequestId id_;
  std::int64_t reserved_ = 0, first_blocks_ = 0;
  SimTime started_ = kSimTimeZero;
};

}  // namespace kunsim
