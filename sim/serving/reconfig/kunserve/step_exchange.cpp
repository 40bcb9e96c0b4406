#include "sim/serving/reconfig/kunserve/step_exchange.hpp"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "sim/serving/engine/pipeline_port.hpp"
#include "sim/serving/engine/serving_context.hpp"

namespace kunsim {

const char* exchange_path_name(ExchangePath p) { return p == ExchangePath::Host ? "host" : "p2p"; }

SimTime transfer_over(ExchangePath path, const ServingContext& ctx, const Member& from, const Member& to,
                      std::int64_t bytes_per_rank, SimTime start) {
  if (path == ExchangePath::P2p) return transfer_between(*ctx.links, *ctx.topology, from, to, bytes_per_rank, start);
  SimTime end = start;
  for (std::size_t t = 0; t < from.gpus.size(); ++t) {
    end = std::max(end, ctx.links->reserve(ctx.topology->gpu_to_host(from.gpus[t]), bytes_per_rank, start).end);
    end = std::max(end, ctx.links->reserve(ctx.topology->host_to_gpu(to.gpus[t]), bytes_per_rank, start).end);
  }
  return end;
}

SimTime StepExchange::begin_step(const ServingContext& ctx, const std::vector<Member>& members, PipelinePort& port,
                                 SimTime start) {
  step_.clear();
  if (s_.interval > SimDuration{} && last_step_ >= kSimTimeZero && start < last_step_ + s_.interval) return start;
  const int g = static_cast<int>(members.size());
  // Each virtual engine's batch: its home's stale requests in id order, those whose KV fits.
  std::vector<std::vector<const Request*>> batch(g);
  for (const auto& [id, r] : port.stale())
    if (static_cast<int>(batch[r->home].size()) < s_.batch && port.exchange_fits(*r)) batch[r->home].push_back(r);
  const int layers = ctx.model->layers;
  const std::int64_t per_layer_block = ctx.memory->block_bytes / layers;  // one TP rank's share
  std::vector<std::unordered_set<std::uint64_t>> sent(g);                 // shared prefix blocks each owner got
  SimTime cursor = start;
  for (int v = 0; v < g; ++v) {
    const int n = static_cast<int>(batch[v].size());
    for (int slice = 0; slice < g && n > 0; ++slice) {
      SimTime slice_end = cursor;
      for (int owner = 0; owner < g; ++owner) {
        if (owner == v) continue;
        std::int64_t blocks = 0;
        for (int k = slice * n / g; k < (slice + 1) * n / g; ++k)
          blocks += port.exchange_blocks(*batch[v][k], owner, sent[owner]);
        const std::int64_t bytes = blocks * per_layer_block * stage_layers(owner, g, layers);
        if (bytes == 0) continue;
        slice_end = std::max(slice_end, transfer_over(s_.path, ctx, members[v], members[owner], bytes, cursor));
        bytes_ += bytes * static_cast<std::int64_t>(members[v].gpus.size());
      }
      cursor = slice_end;
    }
    for (const Request* r : batch[v]) step_.push_back(r->id);
  }
  if (step_.empty()) return start;
  last_step_ = start;
  ++steps_;
  critical_ += cursor - start;
  return cursor;
}

void StepExchange::end_step(PipelinePort& port) {
  for (RequestId id : step_)
    if (port.mark_exchanged(id)) ++requests_;
  step_.clear();
}

nlohmann::json StepExchange::done_fields(int engine_id, SimTime now) const {
  return {{"instance", engine_id},
          {"requests", requests_},
          {"bytes", bytes_},
          {"duration_s", ns_to_seconds(now - started_)},
          {"steps", steps_},
          {"critical_path_s", ns_to_seconds(critical_)},
          {"path", exchange_path_name(s_.path)},
          {"reason", "every stale request's KV is laid out per stage"}};
}

}  // namespace kunsim
