// Engine: one engine (a vLLM engine) over one or more members. With one member it is a
// normal TP instance holding all layers. With g members it is a KunServe pipeline group: the
// members are the stages, micro-batches flow through them, and requests that were running
// when the group fused stay "stale" (KV on their home member: StaleRequests), stalled or served
// by remote attention, until the KV exchange spreads them: a part of every step (StepExchange)
// or a process of its own that blocks the group (KvExchange).
// Continuous batching under a BatchScheduler's rules (vLLM's: vllm_scheduler.cpp): each
// iteration runs every decode once, continues running prefills in chunks, then admits waiting
// requests while the rules allow; when decodes need blocks that are not free it preempts the
// newest running request (the policy picks recompute or a swap to SwapSpace). When nothing but
// decodes can happen until the next finish, the instance jumps over all those steps in one
// event; an arrival cuts the jump at the next step boundary. Pricing: the cost model for one
// member, pipeline_cycle_ns for a group.
// Policies and dispatchers see it as an EngineView (the const queries below marked override).
// Mechanisms that reshape it from outside the step loop each drive a port of their own
// (PipelinePort, MigrationEnd, HandoffEnd, FusionPort), which only ReconfigurationHost hands
// out. Client aborts, and what the ports share, are engine_handover.cpp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "sim/core/event_queue.hpp"
#include "sim/serving/engine/batch_scheduler.hpp"
#include "sim/serving/engine/decode_cohort.hpp"
#include "sim/serving/engine/engine_view.hpp"
#include "sim/serving/engine/fusion_port.hpp"
#include "sim/serving/engine/handoff_end.hpp"
#include "sim/serving/engine/kv_block_manager.hpp"
#include "sim/serving/engine/member.hpp"
#include "sim/serving/engine/migration_end.hpp"
#include "sim/serving/engine/pipeline_port.hpp"
#include "sim/serving/engine/running_list.hpp"
#include "sim/serving/engine/serving_context.hpp"
#include "sim/serving/engine/swap_space.hpp"
#include "sim/serving/engine/token_gap_tracker.hpp"
#include "sim/serving/reconfig/kunserve/micro_batches.hpp"
#include "sim/serving/reconfig/kunserve/pipeline_cost.hpp"
#include "sim/serving/reconfig/kunserve/stale_requests.hpp"
#include "sim/serving/reconfig/kunserve/step_exchange.hpp"
#include "sim/serving/reconfig/kv_handoff.hpp"

namespace kunsim {

struct EngineCounters {
  std::int64_t iterations = 0;   // iterations simulated one by one
  std::int64_t jumps = 0;        // decode runs simulated as one event
  std::int64_t jumped_steps = 0;
  std::int64_t preemptions = 0;
  std::int64_t recomputes = 0;
  std::int64_t swaps_out = 0;
  std::int64_t swaps_in = 0;
  SimDuration busy_ns;
  // Automatic prefix caching: prompt tokens whose prefill was asked for at admission (again
  // after a recompute), those found cached, the cached blocks they held, and blocks evicted.
  std::int64_t prefix_queried_tokens = 0;
  std::int64_t prefix_hit_tokens = 0;
  std::int64_t prefix_hit_blocks = 0;
  std::int64_t prefix_evicted_blocks = 0;
  // Decode steps run (one per decode per step) and the tokens they emitted: more than the steps
  // where decodes speculate. Of the busy time, that of work verifying drafts, and its share
  // spent drafting (the proposer).
  std::int64_t decode_steps = 0;
  std::int64_t emitted_tokens = 0;
  SimDuration speculating_ns;
  SimDuration draft_ns;

  EngineCounters& operator+=(const EngineCounters& o) {
    iterations += o.iterations;
    jumps += o.jumps;
    jumped_steps += o.jumped_steps;
    preemptions += o.preemptions;
    recomputes += o.recomputes;
    swaps_out += o.swaps_out;
    swaps_in += o.swaps_in;
    busy_ns += o.busy_ns;
    prefix_queried_tokens += o.prefix_queried_tokens;
    prefix_hit_tokens += o.prefix_hit_tokens;
    prefix_hit_blocks += o.prefix_hit_blocks;
    prefix_evicted_blocks += o.prefix_evicted_blocks;
    decode_steps += o.decode_steps;
    emitted_tokens += o.emitted_tokens;
    speculating_ns += o.speculating_ns;
    draft_ns += o.draft_ns;
    return *this;
  }
};

// What one iteration (or pipeline cycle) is made of, for pricing.
struct IterationPlan {
  const BatchShape* shape = nullptr;
  int stale_tokens = 0;                 // tokens of stale requests in it (remote attention)
  const std::vector<int>* stale_by_home = nullptr;  // stale tokens per home member
};

class Engine final : public EngineView, public EventHandler {
 public:
  Engine(int id, std::vector<Member> members, const ServingContext& ctx, std::int64_t host_swap_blocks);

  // A request routed here by the dispatcher.
  void enqueue(Request* r, SimTime now);
  // Its client gave up. A waiting or swapped request leaves at once; a running one at the end
  // of the step in flight (a decode jump is cut at its next step boundary), as vLLM handles an
  // abort between engine steps. Its KV is freed and the observer told (phase Aborted).
  void abort(Request* r, SimTime now);
  void handle_event(SimTime now, std::uint64_t arg) override;

  // EngineView: what policies and dispatchers see.
  int id() const override { return id_; }
  int instance_group() const override { return ctx_.group; }
  const std::vector<Member>& members() const override { return members_; }
  std::int64_t kv_capacity() const override { return kv_.capacity(); }
  std::int64_t kv_used() const override { return kv_.used(); }
  // KV blocks in use at time `t` (>= the last event): exact within a decode jump too.
  std::int64_t kv_used_at(SimTime t) const override;
  // Evictable cached prefix blocks at `t`: within a decode jump the growth of its steps so far
  // has evicted what it needed (the jump books its blocks at its end).
  std::int64_t kv_cached_at(SimTime t) const override {
    return std::max<std::int64_t>(0, std::min(kv_.cached(), kv_.capacity() - kv_used_at(t)));
  }
  std::int64_t queued_blocks() const override { return queued_blocks_; }
  KvLoad kv_load_at(SimTime t) const override;
  SimTime next_load_step(SimTime t) const override;
  int running() const override { return running_.size(); }
  int waiting() const override { return static_cast<int>(waiting_.size()); }
  int decoding() const override { return cohort_.size(); }
  std::int64_t request_count() const override;
  std::int64_t decode_context_sum() const override { return cohort_.context_sum(); }
  void each_request(const std::function<void(const Request&)>& visit) const override;
  const EngineParams& settings() const override { return *ctx_.engine; }
  const ModelSpec& model() const override { return *ctx_.model; }
  const CostModel& cost() const override { return *ctx_.cost; }
  SimDuration swap_copy_time(std::int64_t blocks) const override;
  int cached_prefix_keys(const Request& r) const override;
  const PrefixDirectory* prefix_directory() const override { return ctx_.prefix_directory; }

  // The serving layer's own queries (metrics, the cluster, tests).
  std::vector<int> gpus() const;
  const KvBlockManager& kv() const { return kv_; }
  const ServingContext& context() const { return ctx_; }
  std::int64_t host_swap_capacity() const { return swap_.capacity(); }
  std::int64_t host_swap_used() const { return swap_.used(); }
  int swapped() const { return static_cast<int>(swapped_.size()); }
  int stale_requests() const { return static_cast<int>(stale_.all().size()); }
  bool idle() const { return !busy_ && running_.empty() && waiting_.empty() && swapped_.empty(); }
  // Blocks used on member `m` at `t` (stale KV at home, the rest spread over the stages).
  std::int64_t member_used_at(int m, SimTime t) const;
  EngineCounters counters() const {
    EngineCounters c = counters_;
    c.prefix_evicted_blocks += kv_.prefixes().evicted_blocks();
    c.decode_steps = cohort_.decode_steps();
    c.emitted_tokens = cohort_.emitted_tokens();
    return c;
  }
  const std::string& state() const { return state_; }

  // Stops at the next step boundary (cutting a jump) and calls `on_paused(t)`; nothing runs
  // until resume(). A paused engine still takes arrivals into its queue.
  void pause(SimTime now, std::function<void(SimTime)> on_paused);
  void resume(SimTime now);

  // Every request here, outputs synced, nothing changed (for the end-of-run count).
  std::vector<Request*> requests_in_flight() const;
  // Writes a decoding request's current outputs and blocks into it (they are tracked lazily).
  void sync(Request* r) const {
    if (in_cohort(r)) cohort_.sync(r);
  }
  // Debug check: the prefix cache's holder counts are the running requests holding each key.
  void check_prefix_holders() const;
  // Debug check: each virtual engine's load is the requests here bound to it.
  void check_virtual_engines() const;
  ~Engine() override { kv_.detach_directory(); }

 private:
  // The reconfiguration ports: each mechanism that reshapes an engine from outside the step
  // loop has one, owned here and handed by ReconfigurationHost to the process that drives it
  // (ServingCluster is that host). A new mechanism adds a port, not methods on the engine.
  friend class PipelinePort;
  friend class MigrationEnd;
  friend class HandoffEnd;
  friend class FusionPort;
  friend class ServingCluster;
  friend struct EngineTestPeer;  // tests/serving/engine_fixture.hpp
  PipelinePort pipeline_port_{*this};
  MigrationEnd migration_end_{*this};
  HandoffEnd handoff_end_{*this};
  FusionPort fusion_port_{*this};
  // What the ports share: a running request moved in, blocks held for an incoming request,
  // and the pool recomputed from the members (after stale KV moved or finished).
  void adopt_running(Request* r);
  bool reserve_blocks(std::int64_t n);
  void unreserve_blocks(std::int64_t n);
  void refresh_capacity();
  enum class Work { None, Iteration, Jump };
  // Every request here, outputs synced: running (admission order), swapped, waiting, handing
  // off, arrived by hand-off.
  template <class Visit>
  void for_each_request(Visit visit) const;
  void plan(SimTime now);
  void run_iteration(SimTime now);
  void start_jump(SimTime now, std::int64_t steps);
  void end_iteration(SimTime now);
  void end_jump(SimTime now);
  void finish_decodes(SimTime now);
  void preempt(Request* victim, SimTime now, SimTime& blocked_until);
  void swap_in(Request* r, SimTime now, SimTime& blocked_until);
  // A swap copy ending at `copy_end`: the step waits for it before computing, or, where the
  // policy pipelines swaps with compute, ends no earlier than it (overlap_until_).
  void swap_stall(SimTime copy_end, SimTime& blocked_until);
  SimTime overlap_until_ = kSimTimeZero;
  void finish(Request* r, SimTime now);
  // A prefilled request of a prefill instance leaves for the cluster's hand-off queue.
  void offer_handoff(Request* r, SimTime now);
  void take_inbox(SimTime now);
  // Memory came free on a decode instance: hand-offs waiting for room may start.
  void memory_freed(SimTime now) {
    if (ctx_.handoffs && !ctx_.hands_off) ctx_.handoffs->wake(now);
  }
  // Takes a running request out: blocks freed, stale bookkeeping and the running list updated.
  void release(Request* r);
  void abort_running(Request* r, SimTime now);
  void abort_pending(SimTime now);
  void end_aborted(Request* r, const char* where, std::int64_t blocks, SimTime now);
  void kick(SimTime now);  // plans at `now` in an event of its own, unless work is in flight
  void decision(SimTime now, DecisionKind kind, const Request& r, const std::string& reason, std::int64_t blocks);
  // Nanoseconds of one iteration of `shape` (one pipeline cycle for g > 1), and the booking of
  // its link traffic for `steps` steps from `start` (when the links release it). A group whose
  // micro-batches are its virtual engines' prices each from its own requests, its decodes
  // `ahead` steps on (a jump's later steps).
  double price_ns(const BatchShape& shape, int stale_tokens, std::int64_t ahead = 0) const;
  SimTime book_links(const BatchShape& shape, int stale_tokens, std::int64_t steps, SimTime start);
  DecodeRun price_decode_run(const BatchShape& shape) const;
  void cut_jump(SimTime now);
  // Starts `r`'s prefill: queue bookkeeping, its cached prefix held, its blocks allocated.
  void admit(Request* r, SimTime now);
  // Puts the next chunk of `r`'s prefill, within `budget` (spent), into this step; returns it.
  int take_chunk(Request* r, std::int64_t& budget, int& finishing_prefills);
  void check_memory() const;
  // Prefix caching (engine_prefix.cpp). A stale request's keys are salted by its home: its
  // shared prefix is a copy on that member until the KV exchange spreads it.
  static std::uint64_t prefix_salt(const Request& r) { return r.stale() ? static_cast<std::uint64_t>(r.home) + 1 : 0; }
  // Holds r's first cached_keys keys here; returns the blocks that had to be brought (new entries).
  std::int64_t hold_prefix(Request* r);
  // Lets go of r's cached keys here, keeping the count (a handover holds them again elsewhere).
  void let_go_prefix(Request* r);
  // Admission: holds the cached leading keys of `r` and starts its prefill after them.
  void admit_prefix(Request* r);
  // After a prefill chunk: its blocks of full hash blocks become cached (shared from now on).
  void cache_prefilled(Request* r);

  int id_;
  std::vector<Member> members_;
  ServingContext ctx_;
  KvBlockManager kv_;
  SwapSpace swap_;
  std::int64_t watermark_blocks_;
  std::optional<std::int64_t> admission_cap_;
  DecodeCohort cohort_;
  RunningList running_;
  std::deque<Request*> waiting_;
  std::deque<Request*> swapped_;
  std::map<RequestId, Request*> handing_off_;            // prefill role: awaiting the hand-off
  std::vector<std::pair<Request*, std::int64_t>> inbox_;  // decode role: (arrived, reserved)
  std::int64_t queued_blocks_ = 0;
  // Tells the cluster's LoadWatch that kv_load_at may have changed (KvBlockManager tells it of
  // its own changes).
  void load_changed() const {
    if (ctx_.loads) ctx_.loads->load_changed(id_);
  }
  std::int64_t reserved_blocks_ = 0;
  StaleRequests stale_;
  std::unique_ptr<BatchScheduler> scheduler_;
  EngineQueues queues_;  // the scheduler's view of the above
  std::string state_ = "normal";

  // The work in flight.
  bool busy_ = false;
  bool kick_pending_ = false;  // a plan() is scheduled for the current instant
  bool paused_ = false, blocked_ = false, retired_ = false;
  std::function<void(SimTime)> on_paused_;
  Work work_ = Work::None;
  SimTime work_start_ = kSimTimeZero, work_end_ = kSimTimeZero;
  std::uint64_t work_generation_ = 0;  // kKick is 0, so generations start at 1
  std::int64_t jump_steps_ = 0;
  // EngineParams::step_through_jumps: steps of the jump in flight already run, one event each.
  std::int64_t jump_done_ = 0;
  bool stepping_ = false;  // EngineParams::step_through_jumps, read once (hot paths ask)
  bool stepping() const { return stepping_; }
  std::int64_t jump_steps_left() const { return jump_steps_ - (stepping() ? jump_done_ : 0); }
  void run_jump_step(SimTime now);
  DecodeRun jump_run_;
  struct JumpProbe {  // kv_used_at's progress through the jump in flight
    SimDuration offset;
    std::int64_t steps = 0, blocks = 0;
  };
  mutable JumpProbe probe_;
  bool decoded_ = false;  // the iteration in flight ran a decode step
  // Speculative decoding: query tokens a decode computes each step (k + 1; 1 when off), and the
  // share of the work in flight spent drafting (0 when it verifies nothing).
  int decode_queries_ = 1;
  double draft_share_ = 0;
  void note_drafting();                             // sets draft_share_ for shape_, the work about to start
  std::vector<std::pair<Request*, int>> prefills_;  // (request, chunk tokens) in flight
  // Running requests aborted while a step was in flight: (request, id), taken out when it ends
  // (the id tells a request that finished meanwhile, and whose storage was reused, apart).
  std::vector<std::pair<Request*, RequestId>> aborting_;
  TokenGapTracker gaps_;
  void leave_cohort(Request* r);  // remembers r's last token time; nothing for a stalled one
  // A decode in the cohort: a stalled stale request decodes nothing until its KV is exchanged.
  static bool in_cohort(const Request* r) { return r->phase == Phase::Decode && !r->stalled; }
  // A pipeline group's live KV exchange, when it runs in its steps (StepExchange).
  std::optional<StepExchange> exchange_;
  // Nothing runs and no stalled request's KV fits the peers: one is recomputed instead, so the
  // group never waits for room that only its stalled requests could free.
  void recompute_a_stalled_request(SimTime now);
  BatchShape shape_;
  PipelineGeometry geometry_;  // g > 1: what a cycle is priced over

  // ---- a pipeline group's virtual engines (MicroBatching::VirtualEngines) ----
  MicroBatching micro_batching_ = MicroBatching::VirtualEngines;
  bool by_virtual_engine() const { return members_.size() > 1 && micro_batching_ == MicroBatching::VirtualEngines; }
  // Unfinished requests bound to each virtual engine (waiting, running, swapped): an arrival
  // goes to the one with the fewest, ties to the lowest.
  std::vector<std::int64_t> ve_load_;
  // Binds `r` to a virtual engine here: the one it names where `keep` and it is one of ours
  // (a member's requests at a fusion), else the least loaded. Unbinding is idempotent.
  void bind_ve(Request* r, bool keep);
  void unbind_ve(Request* r);
  // This step's token budget of each virtual engine, and whether its waiting head was refused.
  std::vector<std::int64_t> ve_budget_;
  std::vector<char> ve_refused_;
  // Admits waiting requests to the virtual engines with budget, each engine's queue FCFS with
  // its own head of line (the reference's per-scheduler queues).
  void admit_by_virtual_engine(SimTime now, int& finishing_prefills);
  // A virtual engine with prefills in this step runs prefill-only: its decodes sit the step out
  // (DecodeCohort::sit_out; the blocks for their next token given back until they run).
  void sit_out_prefilling_engines(int& stale_tokens);
  mutable std::vector<BatchShape> micro_batches_;  // reused by price_ns
  EngineCounters counters_;
};

}  // namespace kunsim
