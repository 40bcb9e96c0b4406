#include "run/simulation.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "run/run_limits.hpp"
#include "sim/cluster/link_scheduler.hpp"
#include "sim/cluster/topology.hpp"
#include "sim/core/event_loop.hpp"
#include "sim/core/input_error.hpp"
#include "sim/core/output_stream.hpp"
#include "sim/core/rng.hpp"
#include "sim/cost/cost_choice.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "sim/metrics/decision_log.hpp"
#include "sim/metrics/perfetto_trace.hpp"
#include "sim/metrics/request_metrics.hpp"
#include "sim/metrics/run_summary.hpp"
#include "sim/metrics/timeline.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/engine/request_pool.hpp"
#include "sim/serving/fleet/client_timeouts.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"

namespace kunsim {
namespace {

}  // namespace

struct Simulation::Impl final : ServingObserver {
  const Scenario& sc;
  RunOptions opt;
  OutputStream requests_csv, timeline_csv, decisions_jsonl, trace_json;
  std::string vllm_bench_text;  // in memory: vllm-bench.json's text, once the run is over
  EventQueue events;
  Rng rng;
  Topology topology;
  LinkScheduler links;
  std::vector<std::unique_ptr<CostModel>> cost_models;  // one per instance group
  const bool prefix_caching;  // some group caches prefixes: arrivals carry their prefix keys
  // deployment.speculative, and its tokens a step at the deployment's acceptance.
  const SpeculativeSpec& speculative;
  const std::int64_t default_emit_rate;
  const std::int16_t window_blocks;  // blocks each request holds for the model's sliding windows
  std::unique_ptr<MemoryOverloadPolicy> policy;
  ServingContext ctx;
  std::unique_ptr<ServingCluster> cluster;
  std::unique_ptr<ClientTimeouts> timeouts;  // set when workload.client_timeout_s is
  RequestPool pool;
  RequestMetrics metrics;
  DecisionLog decisions;
  Timeline timeline;
  std::unique_ptr<PerfettoTrace> trace;
  std::unique_ptr<ArrivalSource> source;
  std::optional<TraceRequest> pending;  // the next arrival, already scheduled
  std::uint64_t next_id = 0;
  std::int64_t in_flight = 0;
  std::int64_t rejects = 0;
  std::int64_t timeline_rows = 0;
  bool timeline_capped = false;  // kMaxTimelineRows reached: the samples stopped there
  SimTime now = kSimTimeZero;

  // One of the run's outputs: in memory, a file in out_dir, or none without either.
  OutputStream open_out(const char* name) const {
    if (opt.in_memory) return OutputStream::memory();
    if (opt.out_dir.empty()) return OutputStream();
    return OutputStream::file(std::filesystem::path(opt.out_dir) / name);
  }

  struct ArrivalHandler final : EventHandler {
    Impl* sim;
    void handle_event(SimTime t, std::uint64_t) override { sim->on_arrival(t); }
  } arrival_handler;
  struct SampleHandler final : EventHandler {
    Impl* sim;
    void handle_event(SimTime t, std::uint64_t) override { sim->on_sample(t); }
  } sample_handler;
  // A closed loop (workload.max_concurrency, vllm bench serve's --max-concurrency): the client's
  // free slots. A request is sent once it is offered and a slot is free; its slot frees when its
  // response reaches the client, the front end's time after the engine is done with it.
  std::optional<std::int64_t> free_slots;
  bool waiting_for_slot = false;  // `pending` is offered, and waits for a slot
  struct SlotHandler final : EventHandler {
    Impl* sim;
    void handle_event(SimTime t, std::uint64_t) override { sim->on_slot_free(t); }
  } slot_handler;

  Impl(const Scenario& s, RunOptions o)
      : sc(s),
        opt(std::move(o)),
        requests_csv(opt.requests_csv ? open_out("requests.csv") : OutputStream()),
        timeline_csv(opt.timeline_csv ? open_out("timeline.csv") : OutputStream()),
        decisions_jsonl(opt.decisions_jsonl ? open_out("decisions.jsonl") : OutputStream()),
        trace_json(opt.perfetto ? open_out("trace.json") : OutputStream()),
        rng(s.seed),
        topology(s.cluster),
        links(topology),
        prefix_caching(s.deployment.prefix_caching()),
        speculative(s.engine.speculative),
        default_emit_rate(speculative.emit_rate()),
        window_blocks(static_cast<std::int16_t>(s.model.window_blocks(s.engine.block_size))),
        policy(s.make_policy()),
        metrics(requests_csv.get(), s.slo, seconds_to_ns(s.deployment.frontend_s), s.windows,
                s.deployment.disaggregated()),
        decisions(decisions_jsonl.get()),
        timeline(timeline_csv.get()) {
    if (opt.save_detailed) metrics.keep_per_request();
    ctx.events = &events;
    ctx.links = &links;
    ctx.topology = &topology;
    ctx.model = &sc.model;
    ctx.engine = &sc.engine;
    ctx.memory = &sc.memory;
    ctx.policy = policy.get();
    ctx.observer = this;
    std::vector<InstanceGroup> groups;
    for (const DeploymentGroup& d : sc.deployment.groups) {
      cost_models.push_back(make_group_cost_model(d, sc.model));
      InstanceGroup g;
      g.name = d.name;
      g.gpu = d.hardware.gpu.name;
      g.role = d.role;
      g.ctx = ctx;
      g.ctx.engine = &d.engine;
      g.ctx.memory = &d.memory;
      g.ctx.cost = cost_models.back().get();
      g.blocks_per_instance = d.memory.num_blocks;
      g.host_blocks_per_instance = static_cast<std::int64_t>(d.swap_space_bytes / static_cast<double>(d.memory.block_bytes));
      g.gpus = d.gpus;
      groups.push_back(std::move(g));
    }
    ctx.cost = cost_models.front().get();
    cluster = std::make_unique<ServingCluster>(ctx, std::move(groups),
                                               make_dispatcher(sc.deployment.dispatch, "deployment.dispatch", sc.deployment.dispatch_params),
                                               sc.deployment.layerwise_transfer);
    if (sc.workload.client_timeout_s)
      timeouts = std::make_unique<ClientTimeouts>(*cluster, events, seconds_to_ns(*sc.workload.client_timeout_s));
    arrival_handler.sim = this;
    sample_handler.sim = this;
    slot_handler.sim = this;
    free_slots = sc.workload.max_concurrency;
    source = make_arrival_source(sc.workload, rng.fork(kArrivalStream));
    if (trace_json) {
      trace = std::make_unique<PerfettoTrace>(trace_json.get());
      links.on_transfer = [this](LinkId id, SimTime a, SimTime b, std::int64_t bytes) {
        trace->transfer(id, topology.link_name(id), a, b, bytes);
      };
    }
  }

  // ServingObserver
  void on_first_token(const Request&, SimTime) override {}
  void on_request_done(Request& r, SimTime t) override {
    if (r.phase == Phase::Aborted) metrics.on_aborted(r);
    else metrics.on_finished(r);
    if (timeouts) timeouts->on_done(r);
    --in_flight;
    pool.release(&r);
    release_slot(t);
  }
  void on_token_gaps(const TokenGaps& g) override { metrics.on_token_gaps(g); }
  void on_drop_gap(SimDuration gap) override { metrics.on_drop_gap(ns_to_seconds(gap)); }
  void on_decision(const Decision& d) override {
    const Json row = d.row();
    if (trace) trace->decision(row);
    decisions.write(d, row);
  }
  void on_work(const Engine& e, SimTime start, SimTime end, std::int64_t steps, int decodes,
               std::int64_t prefill_tokens) override {
    if (!trace) return;
    std::string name = "engine " + std::to_string(e.id());
    if (e.stages() > 1) name += " (pipeline g=" + std::to_string(e.stages()) + ")";
    trace->work(e.id(), name, start, end, steps, decodes, prefill_tokens);
  }

  // The next request the source offers, sent at its time (`now` at the earliest: a closed loop's
  // request offered earlier waited for a slot).
  void schedule_next_arrival(SimTime now) {
    pending = source->next();
    if (!pending) return;
    metrics.on_offered(pending->arrival);
    if (free_slots && *free_slots == 0) {
      waiting_for_slot = true;  // sent by on_slot_free
      return;
    }
    events.schedule(std::max(now, pending->arrival), &arrival_handler);
  }

  // Closed loop: the engine was done with a request at `t` (finished, aborted or rejected); its
  // client gets the response, and its slot back, the front end's time later.
  void release_slot(SimTime t) {
    if (free_slots) events.schedule(t + seconds_to_ns(sc.deployment.frontend_s), &slot_handler);
  }
  void on_slot_free(SimTime t) {
    ++*free_slots;
    if (!waiting_for_slot) return;
    waiting_for_slot = false;
    events.schedule(std::max(t, pending->arrival), &arrival_handler);
  }

  void on_arrival(SimTime t) {
    TraceRequest tr = std::move(*pending);
    if (free_slots) --*free_slots;  // sent: it holds a client slot until its response is back
    // The next arrival is scheduled first, so one due at this same instant is delivered before
    // the instance's planning event that this one may schedule.
    schedule_next_arrival(t);
    Request* r = pool.acquire();
    r->id = next_id++;
    r->arrival = t;
    r->prompt = tr.prompt;
    r->output = tr.output;
    r->window_blocks = window_blocks;
    if (speculative.on()) {
      // A row's acceptance is taken to the hundredth: decodes of one rate share a cohort lane,
      // so a trace of free-form rates would make as many lanes.
      std::optional<double> alpha = sc.workload.speculative_acceptance;
      if (tr.acceptance >= 0) alpha = std::round(tr.acceptance * 100) / 100;
      r->lookahead = static_cast<std::int16_t>(speculative.lookahead());
      r->emit_rate = static_cast<std::int32_t>(alpha ? speculative.emit_rate(alpha) : default_emit_rate);
    }
    if (!tr.prefix.empty() && prefix_caching) {
      if (tr.prefix_block_tokens % sc.engine.block_size != 0)
        throw InputError(source->describe() + ": hash blocks of " + std::to_string(tr.prefix_block_tokens) +
                         " tokens are not a multiple of deployment.block_size (" +
                         std::to_string(sc.engine.block_size) + "); prefix caching needs whole KV blocks");
      r->prefix = std::move(tr.prefix);
      r->prefix_unit = tr.prefix_block_tokens / sc.engine.block_size;
    }
    metrics.on_arrival(r->arrival);
    ++in_flight;
    const std::string why = cluster->never_fits(*r);
    if (!why.empty()) {
      ++rejects;
      r->phase = Phase::Rejected;
      on_decision(Decision{t, DecisionKind::Reject, DecisionPhase::None, {{"request", r->id}, {"reason", why}}});
      metrics.on_rejected(*r, why);
      --in_flight;
      pool.release(r);
      release_slot(t);
    } else {
      cluster->dispatch(r, t);
      if (timeouts) timeouts->watch(*r);
    }
  }

  // Debug builds: every request that arrived and has not ended is in exactly one engine (a
  // migration holds one between engines only inside a single event).
  mutable std::uint64_t checks_ = 0;
  void check_conservation() const {
    std::int64_t held = 0;
    // Prefix holder counts are the requests holding each key (nothing held is freed). The check
    // walks every held key, so it runs every 64th event: a miscount persists until it is seen.
    const bool holders = ++checks_ % 64 == 0;
    for (const Engine* e : cluster->engine_list()) {
      held += e->request_count();
      if (holders) {
        e->check_prefix_holders();
        e->check_virtual_engines();
      }
    }
    if (held != in_flight) throw std::logic_error("simulation: " + std::to_string(in_flight) + " requests in flight, " +
                                                  std::to_string(held) + " held by engines");
  }

  // Requests are in flight or still to arrive.
  bool live() const { return in_flight > 0 || pending.has_value(); }

  void on_sample(SimTime t) {
    for (int slot = 0; slot < cluster->num_slots(); ++slot) {
      const auto [engine, member] = cluster->slot(slot);
      timeline.sample(t, slot, *engine, member);
    }
    timeline_rows += cluster->num_slots();
    // Past the cap the samples stop (with or without a file: each is an event), and the summary
    // says where; a few requests spread over years would otherwise sample for hours.
    if (!opt.force && timeline_rows + cluster->num_slots() > kMaxTimelineRows) {
      timeline_capped = true;
      return;
    }
    // Re-arm while the run has work left; a quiet queue means the run is over.
    if (live() && !events.empty()) events.schedule(t + seconds_to_ns(sc.timeline_interval_s), &sample_handler);
  }

  Json run() {
    const auto wall0 = std::chrono::steady_clock::now();
    schedule_next_arrival(kSimTimeZero);
    // An empty workload would "pass" with attainment 1 and every percentile 0.
    if (!pending) throw InputError(sc.workload.empty_message(source->skipped()));
    events.schedule(kSimTimeZero, &sample_handler);
    cluster->start_ticks(kSimTimeZero, [this] { return live(); });
    const SimTime horizon = sc.max_time_s ? at_seconds(*sc.max_time_s) : kSimTimeMax;
    EventLoop loop(events);
#ifndef NDEBUG
    loop.run(horizon, [this] { check_conservation(); });
    for (const Engine* e : cluster->engine_list()) {
      e->check_prefix_holders();
      e->check_virtual_engines();
    }
#else
    loop.run(horizon);
#endif
    now = loop.now();
    // A run that ends before its first arrival measured nothing; its attainment of 1 would be a lie.
    if (metrics.arrived() == 0) throw InputError(no_arrival_message(*sc.max_time_s, pending->arrival));
    // What is left when the run stops: requests still in instances, never-arrived ones are
    // not counted (they did not arrive within the run).
    for (Request* r : cluster->requests_in_flight()) {
      metrics.on_unfinished(*r);
      --in_flight;
    }
    if (in_flight != 0) throw std::logic_error("simulation: requests lost track of");
    trace.reset();  // closes the JSON array before the file is closed
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    Json j = summary(loop.processed(), opt.wall_clock ? wall : 0.0);
    write_vllm_bench();
    return j;
  }

  // summary.json's `groups`: each instance group with its hardware, memory and costs, and the
  // fleet's price per hour where the cluster gives prices.
  Json groups_json() const {
    Json out = Json::array();
    for (const DeploymentGroup& g : sc.deployment.groups) {
      Json j = {{"name", g.name},
                {"role", instance_role_name(g.role)},
                {"gpu", g.hardware.gpu.name},
                {"tp", g.engine.tp},
                {"count", g.count},
                {"gpus", g.gpu_count()},
                {"blocks_per_instance", g.memory.num_blocks},
                {"kv_gib_per_gpu", std::round(static_cast<double>(g.memory.kv_bytes) / static_cast<double>(kGiB) * 1e6) / 1e6},
                {"prefix_caching", g.engine.enable_prefix_caching},
                {"cost_source", g.cost_source}};
      if (g.hardware.price_per_gpu_hour) {
        j["price_per_gpu_hour"] = *g.hardware.price_per_gpu_hour;
        j["dollars_per_hour"] = *g.hardware.price_per_gpu_hour * g.gpu_count();
      }
      out.push_back(std::move(j));
    }
    return out;
  }

  Json summary(std::int64_t processed, double wall) const {
    RunFacts facts;
    facts.scenario = sc.name;
    facts.seed = sc.seed;
    facts.policy = sc.policy_name;
    facts.model = sc.model.name;
    facts.cost_model = cost_models.front()->describe();
    facts.cost_source = sc.cost_source;
    facts.workload = sc.workload.describe();
    facts.rate_scale = sc.workload.rate_scale;
    facts.rate_scale_effect = sc.workload.rate_scale_effect();
    facts.skipped_rows = source->skipped();
    facts.clipped_samples = source->clipped();
    facts.rejects = rejects;
    facts.memory = &sc.memory;
    facts.block_size = sc.engine.block_size;
    facts.prefix_caching = prefix_caching;
    facts.groups = groups_json();
    if (speculative.on()) {
      facts.speculative = {{"method", speculative.method},
                           {"num_tokens", speculative.num_tokens},
                           {"lookahead_slots", speculative.lookahead()},
                           {"expected_tokens_per_step", std::round(speculative.tokens_per_step() * 1e6) / 1e6}};
      if (speculative.acceptance)
        facts.speculative["acceptance"] = *speculative.acceptance;
      else
        facts.speculative["acceptance_by_position"] = speculative.acceptance_by_position;
      if (sc.workload.speculative_acceptance)
        facts.speculative["workload_acceptance"] = *sc.workload.speculative_acceptance;
    }
    facts.end = now;
    facts.events = processed;
    facts.wall_s = wall;
    Json j = run_summary(facts, metrics, decisions, *cluster);
    if (timeline_capped) j["sim"]["timeline_capped_at_rows"] = timeline_rows;
    return j;
  }

  // vllm-bench.json: kept as text in memory, or written into out_dir.
  void write_vllm_bench() {
    if (!opt.in_memory && opt.out_dir.empty()) return;
    const std::string text = json_file_text(vllm_bench());
    if (opt.in_memory) {
      vllm_bench_text = text;
      return;
    }
    const OutputStream f = OutputStream::file(std::filesystem::path(opt.out_dir) / "vllm-bench.json");
    std::fwrite(text.data(), 1, text.size(), f.get());
  }

  Json vllm_bench() const {
    // A synthetic workload's gaps are gamma with one CV (Poisson: 1), as vLLM's client draws them.
    const WorkloadSpec& w = sc.workload;
    RequestMetrics::BenchClient client;
    if (w.kind == WorkloadSpec::Kind::Synthetic && !std::isinf(w.rate)) client.burstiness = 1 / (w.cv * w.cv);
    client.max_concurrency = w.max_concurrency;
    return metrics.vllm_bench_json(sc.model.name, client);
  }
};

Simulation::Simulation(const Scenario& scenario, RunOptions options) {
  check_run_limits(scenario, options.force);  // before any output file is opened
  impl_ = std::make_unique<Impl>(scenario, std::move(options));
}
Simulation::~Simulation() = default;
Json Simulation::run() { return impl_->run(); }
Json Simulation::vllm_bench() const { return impl_->vllm_bench(); }

std::vector<std::pair<std::string, std::string>> Simulation::outputs() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!impl_->opt.in_memory) return out;
  for (const auto& [name, stream] :
       {std::pair{"requests.csv", &impl_->requests_csv}, std::pair{"timeline.csv", &impl_->timeline_csv},
        std::pair{"decisions.jsonl", &impl_->decisions_jsonl}, std::pair{"trace.json", &impl_->trace_json}})
    if (*stream) out.emplace_back(name, stream->text());
  out.emplace_back("vllm-bench.json", impl_->vllm_bench_text);
  return out;
}

}  // namespace kunsim
