// InstanceFixture: one Engine on a tiny 1-node cluster with a chosen model and roofline
// parameters, a recording observer and the vllm policy: for exact nanosecond checks.
#pragma once
#include <deque>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "sim/cluster/link_scheduler.hpp"
#include "sim/core/event_loop.hpp"
#include "sim/cost/roofline_cost_model.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/engine/engine.hpp"
#include "sim/serving/fleet/serving_cluster.hpp"
#include "test_support.hpp"

namespace kunsim {

// Tests set an engine up directly, without the cluster that would hand a process its ports.
struct EngineTestPeer {
  static FusionPort& fusion(Engine& e) { return e.fusion_port_; }
};

}  // namespace kunsim

namespace kunsim::test {

struct Recorded : ServingObserver {
  std::vector<nlohmann::json> decisions;
  std::vector<const Request*> done;
  void on_first_token(const Request&, SimTime) override {}
  void on_request_done(Request& r, SimTime) override { done.push_back(&r); }
  void on_decision(const Decision& d) override { decisions.push_back(d.row()); }
  std::vector<SimDuration> drop_gaps;
  void on_drop_gap(SimDuration gap) override { drop_gaps.push_back(gap); }
};

struct InstanceFixture {
  ModelSpec model;
  ClusterSpec cluster;
  EngineParams engine;
  MemoryPlan memory;
  Topology topology;
  LinkScheduler links;
  RooflineCostModel cost;
  std::unique_ptr<MemoryOverloadPolicy> policy;
  EventQueue events;
  Recorded observer;
  ServingContext ctx;
  std::unique_ptr<Engine> inst;
  std::deque<Request> requests;


  InstanceFixture(ModelSpec m, RooflineParams rp, std::int64_t blocks, const char* policy_name = "vllm",
                  std::int64_t host_blocks = 0, EngineParams e = {}, int gpus = 2)
      : model(std::move(m)),
        cluster(test_cluster(1, gpus)),
        engine(e),
        topology(cluster),
        links(topology),
        cost(model, cluster.gpu, cluster.nvlink, engine.tp, rp),
        policy(policy_maker(nlohmann::json{{"name", policy_name}}, "policy")()) {
    memory.block_bytes = std::int64_t{engine.block_size} * model.kv_bytes_per_token_per_layer_per_gpu(1) * model.layers;
    memory.num_blocks = blocks;
    ctx = {&events, &links, &topology, &cost, &model, &engine, &memory, policy.get(), &observer};
    Member only;
    only.slot = 0;
    only.gpus = {0};
    only.base_blocks = blocks;
    inst = std::make_unique<Engine>(0, std::vector<Member>{only}, ctx, host_blocks);
  }

  Request* add(RequestId id, std::int64_t at_ns, int prompt, int output) {
    Request& r = requests.emplace_back();
    r.id = id;
    r.arrival = SimTime::from_ns(at_ns);
    r.prompt = prompt;
    r.output = output;
    return &r;
  }

  // Runs events until none is left or `until`, delivering `arrivals` at their times; after
  // every event checks time order and, via `check`, the caller's invariants.
  void run(std::vector<Request*> arrivals) {
    run_until(arrivals, kSimTimeMax, [this] {
      ASSERT_LE(inst->kv().used(), inst->kv().capacity());
      ASSERT_GE(inst->kv().used(), 0);
    });
  }
  template <class Check>
  void run_until(std::vector<Request*> arrivals, std::int64_t until_ns, Check check) {
    run_until(std::move(arrivals), SimTime::from_ns(until_ns), check);
  }
  template <class Check>
  void run_until(std::vector<Request*> arrivals, SimTime until, Check check) {
    struct Arrive : EventHandler {
      InstanceFixture* f;
      std::vector<Request*> list;
      void handle_event(SimTime now, std::uint64_t i) override { f->inst->enqueue(list[i], now); }
    } arrive;
    arrive.f = this;
    arrive.list = arrivals;
    for (std::size_t i = 0; i < arrivals.size(); ++i) events.schedule(arrivals[i]->arrival, &arrive, i);
    loop.run(until, check);
    now = loop.now();
  }
  EventLoop loop{events};
  SimTime now = kSimTimeZero;
};

// A model small enough to price by hand: 1 layer, hidden 1024, 8 heads of 128 (no GQA),
// ffn 1024, vocab 1024, bf16.
inline ModelSpec tiny_model() {
  ModelSpec m;
  m.name = "tiny";
  m.layers = 1;
  m.hidden = 1024;
  m.heads = 8;
  m.kv_heads = 8;
  m.head_dim = 128;
  m.ffn = 1024;
  m.vocab = 1024;
  return m;
}

// Ideal roofline: efficiencies 1, no launch cost, 100 us of CPU per iteration.
inline RooflineParams ideal_roofline() {
  RooflineParams p;
  p.gemm_efficiency = p.attention_efficiency = p.memory_efficiency = p.attention_memory_efficiency = 1.0;
  p.nccl_half_bytes = 0;
  p.gemm_latency_us = 0;
  p.attention_latency_us = 0;
  p.elementwise_latency_us = 0;
  p.attention_half_len = 0;
  p.elementwise_bw_factor = 1.0;
  p.graph_overhead_us = 100;
  p.eager_overhead_us = 100;
  p.cpu_per_seq_us = 0;
  return p;
}

// `instances` normal llama-3-8b TP1 instances of `blocks` KV blocks each on the fixture's
// cluster, dispatched round-robin.
struct ClusterOf : InstanceFixture {
  std::unique_ptr<ServingCluster> cluster;
  ClusterOf(int instances, std::int64_t blocks)
      : InstanceFixture(find_model("llama-3-8b", "model"), RooflineParams{}, blocks, "vllm", 0, {}, std::max(2, instances)),
        cluster(std::make_unique<ServingCluster>(ctx, instances, blocks, 0, make_dispatcher("round_robin", "dispatch"))) {}
};

}  // namespace kunsim::test
