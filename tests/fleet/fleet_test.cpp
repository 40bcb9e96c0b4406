// Fleets: instance groups of their own GPU kind, TP, knobs and role on node groups, and
// prefill/decode disaggregation. Placement and the one-group form, bad fleets, every policy on a
// two-kind fleet, hand-offs (KV bytes, re-sharding, waiting for room, clients leaving mid
// hand-off), and plan/sweep over group fields.
#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "run/scenario.hpp"
#include "sim/cluster/link_scheduler.hpp"
#include "sim/cluster/topology.hpp"
#include "sim/core/input_error.hpp"
#include "sim/serving/reconfig/kv_handoff.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

using test::read_file;
using test::run_scenario;
using test::scratch;

// What every fleet here serves: the vllm policy priced by the roofline (so the figures do not
// depend on ../shared being there) and a tiny Poisson load; `j` names the fleet.
Json with_tiny_load(Json j) {
  j["policy"] = {{"name", "vllm"}};
  j["cost"] = {{"model", "roofline"}};
  j["workload"] = Json::parse(R"({"synthetic": {"rate": 20, "duration_s": 20,
      "input_tokens": {"type": "uniform", "min": 100, "max_value": 2000},
      "output_tokens": {"type": "uniform", "min": 1, "max_value": 400}}})");
  return j;
}

// One 4-GPU A100 node and one 4-GPU H100 node: llama-3-8b at TP2 x 2 on the A100s and TP1 x 4 on
// the H100s.
Json two_kind() {
  return with_tiny_load(Json::parse(R"({
    "name": "two-kind", "seed": 3, "model": "llama-3-8b",
    "cluster": {"node_groups": [{"gpu": "a100-80g", "nodes": 1, "gpus_per_node": 4},
                                {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 4}],
                "price_per_gpu_hour": {"a100-80g": 1.5, "h100-sxm": 2.5}},
    "deployment": {"groups": [{"name": "a", "gpu": "a100-80g", "tp": 2, "count": 2},
                              {"name": "h", "gpu": "h100-sxm", "tp": 1, "count": 4}]}
  })"));
}

// The same tiny load disaggregated on one 4-GPU H100 node: 2 prefill and 2 decode instances.
Json disaggregated() {
  return with_tiny_load(Json::parse(R"({
    "name": "pd", "seed": 5, "model": "llama-3-8b",
    "cluster": {"gpu": "h100-sxm", "nodes": 1, "gpus_per_node": 4},
    "deployment": {"groups": [{"name": "p", "role": "prefill", "tp": 1, "count": 2},
                              {"name": "d", "role": "decode", "tp": 1, "count": 2}]}
  })"));
}

std::vector<Json> rows_of(const std::filesystem::path& jsonl, const std::string& kind) {
  std::vector<Json> out;
  std::istringstream in(read_file(jsonl));
  for (std::string line; std::getline(in, line);) {
    Json j = Json::parse(line);
    if (j["kind"] == kind) out.push_back(std::move(j));
  }
  return out;
}

// requests.csv as maps by column name.
std::vector<std::map<std::string, std::string>> csv_rows(const std::filesystem::path& file) {
  std::istringstream in(read_file(file));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> cols;
  std::stringstream hs(line);
  for (std::string c; std::getline(hs, c, ',');) cols.push_back(c);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    std::map<std::string, std::string> row;
    std::stringstream ls(line);
    std::string v;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      std::getline(ls, v, ',');
      row[cols[i]] = v;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void expect_conserved(const Json& s) {
  const auto& r = s["requests"];
  EXPECT_GT(r["arrived"].get<std::int64_t>(), 0);
  EXPECT_EQ(r["arrived"].get<std::int64_t>(), r["completed"].get<std::int64_t>() + r["rejected"].get<std::int64_t>() +
                                                  r["unfinished"].get<std::int64_t>() + r["aborted"].get<std::int64_t>());
}

std::string input_error(const Json& j) {
  try {
    scenario_from_json(j, TracePaths{});
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(FleetScenario, GroupsArePlacedOnNodesOfTheirKindWithTheirOwnMemoryAndCosts) {
  const Scenario sc = scenario_from_json(two_kind(), TracePaths{});
  ASSERT_EQ(sc.deployment.groups.size(), 2u);
  const DeploymentGroup& a = sc.deployment.groups[0];
  const DeploymentGroup& h = sc.deployment.groups[1];
  EXPECT_EQ(a.gpus, (std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
  EXPECT_EQ(h.gpus, (std::vector<std::vector<int>>{{4}, {5}, {6}, {7}}));
  EXPECT_EQ(a.hardware.gpu.name, "a100-80g");
  EXPECT_EQ(h.hardware.gpu.name, "h100-sxm");
  // TP2 keeps half the weights per GPU, so an A100 instance holds more than twice the blocks.
  EXPECT_GT(a.memory.num_blocks, 2 * h.memory.num_blocks);
  EXPECT_EQ(*a.hardware.price_per_gpu_hour, 1.5);
  EXPECT_EQ(*h.hardware.price_per_gpu_hour, 2.5);
  EXPECT_EQ(sc.instances, 6);
  // Each group is priced for its own kind.
  EXPECT_EQ(a.cost_source.find("h100"), std::string::npos) << a.cost_source;
}

TEST(FleetScenario, OneMixedGroupRunsExactlyAsTheSingleForm) {
  Json single = test::tiny_cluster_scenario();
  Json grouped = single;
  grouped["deployment"] = Json::parse(R"({"groups": [{"name": "all", "tp": 1, "count": 4}]})");
  const auto a = scratch("fleet-single"), b = scratch("fleet-grouped");
  run_scenario(single, a);
  run_scenario(grouped, b);
  EXPECT_EQ(read_file(a / "decisions.jsonl"), read_file(b / "decisions.jsonl"));
  EXPECT_EQ(read_file(a / "requests.csv"), read_file(b / "requests.csv"));
  EXPECT_EQ(read_file(a / "timeline.csv"), read_file(b / "timeline.csv"));
}

TEST(FleetScenario, BadFleetsNameTheirPath) {
  auto with = [](const std::string& path, const Json& v) {
    Json j = two_kind();
    apply_override(j, path + "=" + v.dump());
    return input_error(j);
  };
  auto has = [](const std::string& msg, const std::string& part) {
    EXPECT_NE(msg.find(part), std::string::npos) << msg;
  };
  has(with("deployment.groups.1.count", 5), "deployment.groups.1.count: 5 instances x tp 1 do not fit");
  has(with("deployment.groups.0.gpu", "b200"), "deployment.groups.0.gpu: the cluster has no b200 nodes");
  has(with("deployment.groups.0.gpu", "tpu"), "deployment.groups.0.gpu");
  has(with("deployment.groups.1.name", "a"), "deployment.groups.1.name");
  has(with("deployment.groups.0.tp", 3), "deployment.groups.0.tp: 3 does not divide");
  has(with("deployment.groups.0.colour", "red"), "deployment.groups.0.colour");
  has(with("deployment.groups.0.role", "both"), "deployment.groups.0.role");
  has(with("deployment.groups.0.block_size", 32), "deployment.groups.0.block_size");
  has(with("deployment.instances", 4), "deployment.instances: not allowed with deployment.groups");
  has(with("deployment.groups", Json::array()), "deployment.groups: expected a non-empty list");
  has(with("deployment.groups.0.role", "prefill"), "prefill instances need a decode group");
  has(with("deployment.groups.0.role", "decode"), "decode instances are fed only by prefill instances");
  has(with("cluster.gpu", "h100-sxm"), "cluster.gpu: give it inside each of cluster.node_groups");
  has(with("cluster.price_per_gpu_hour", Json{{"a100-80g", 1.5}}), "no price for the cluster's GPU kind h100-sxm");
  has(with("deployment.groups.1.cost", Json{{"model", "guess"}}), "deployment.groups.1.cost.model");
  has(with("deployment.groups.0.cost", Json{{"model", "profile"}, {"profile", "nope"}}),
      "deployment.groups.0.cost.profile: \"nope\" is neither a known a100-80g profile");
  Json pd = disaggregated();
  pd["policy"]["name"] = "kunserve";
  has(input_error(pd), "policy.name: kunserve fuses instances that serve requests whole");
}

TEST(FleetTopology, RoutesAcrossKindsAreBoundByTheSlowerNic) {
  const Scenario sc = scenario_from_json(two_kind(), TracePaths{});
  const Topology topo(sc.cluster);
  ASSERT_EQ(topo.num_gpus(), 8);
  EXPECT_EQ(topo.num_nodes(), 2);
  EXPECT_EQ(topo.gpu_node(3), 0);
  EXPECT_EQ(topo.gpu_node(4), 1);
  LinkScheduler links(topo);
  const Route& across = topo.gpu_to_gpu(0, 4);  // A100 NIC (25 GB/s) -> switch -> H100 NIC (50 GB/s)
  ASSERT_EQ(across.size(), 2u);
  EXPECT_EQ(topo.link(across[0]).kind, LinkKind::Network);
  EXPECT_NEAR(static_cast<double>(links.duration(across, 25'000'000'000LL).ns()) * 1e-9, 1.0, 1e-3);
  const Route& within = topo.gpu_to_gpu(4, 5);  // NVLink within the H100 node
  EXPECT_EQ(topo.link(within[0]).kind, LinkKind::NvLink);
}

TEST(KvReshard, EachDecodeRankGetsItsHeadsFromAHolder) {
  auto total = [](const std::vector<ReshardFlow>& f) {
    double t = 0;
    for (const auto& x : f) t += x.share;
    return t;
  };
  // TP1 -> TP1: one flow of everything.
  auto same = reshard_flows(8, 1, 1);
  ASSERT_EQ(same.size(), 1u);
  EXPECT_DOUBLE_EQ(same[0].share, 1.0);
  // TP2 -> TP4 (8 heads): decode rank d takes its 2 heads from prefill rank d / 2.
  auto up = reshard_flows(8, 2, 4);
  ASSERT_EQ(up.size(), 4u);
  for (const auto& f : up) {
    EXPECT_EQ(f.from, f.to / 2);
    EXPECT_DOUBLE_EQ(f.share, 0.25);
  }
  // TP4 -> TP1: rank 0 gathers a quarter from each.
  auto down = reshard_flows(8, 4, 1);
  ASSERT_EQ(down.size(), 4u);
  for (const auto& f : down) EXPECT_EQ(f.to, 0);
  EXPECT_DOUBLE_EQ(total(down), 1.0);
  // 4 heads to TP8: each head is stored twice, so twice the KV moves.
  auto replicated = reshard_flows(4, 1, 8);
  EXPECT_EQ(replicated.size(), 8u);
  EXPECT_DOUBLE_EQ(total(replicated), 2.0);
  // 4 heads from TP8 (replicated) to TP2: the senders of a head alternate between its holders.
  auto from_replicas = reshard_flows(4, 8, 2);
  EXPECT_DOUBLE_EQ(total(from_replicas), 1.0);
}

TEST(FleetRun, EveryPolicyServesATwoKindFleetWithinEachGroup) {
  for (const char* policy : {"vllm", "vllm-swap", "infercept", "llumnix", "kunserve"}) {
    SCOPED_TRACE(policy);
    Json j = two_kind();
    j["policy"] = {{"name", policy}};
    j["deployment"]["gpu_memory_utilization"] = 0.25;  // overload: small KV caches
    j["workload"]["synthetic"]["rate"] = 15;
    j["workload"]["synthetic"]["output_tokens"] = Json{{"type", "uniform"}, {"min", 200}, {"max_value", 1500}};
    j["workload"]["bursts"] = Json::array({Json{{"start_s", 5}, {"duration_s", 5}, {"multiplier", 5}}});
    const auto dir = scratch(std::string("fleet-") + policy);
    const Json s = run_scenario(j, dir);
    expect_conserved(s);
    ASSERT_TRUE(s.contains("groups"));
    EXPECT_DOUBLE_EQ(s["fleet_dollars_per_hour"].get<double>(), 4 * 1.5 + 4 * 2.5);
    // Slots 0-1 are the A100 group, 2-5 the H100 group; every slot served.
    auto group_of = [](int slot) { return slot < 2 ? 0 : 1; };
    for (const auto& e : s["instances"]) EXPECT_GT(e["busy_fraction"].get<double>(), 0) << e.dump();
    if (std::string(policy) == "kunserve") {
      const auto drops = rows_of(dir / "decisions.jsonl", "drop");
      EXPECT_FALSE(drops.empty());
      for (const auto& d : drops) {
        const auto slots = d["instances"].get<std::vector<int>>();
        for (int sl : slots) EXPECT_EQ(group_of(sl), group_of(slots[0])) << d.dump();
      }
    }
    if (std::string(policy) == "llumnix") {
      const auto migrations = rows_of(dir / "decisions.jsonl", "migrate");
      EXPECT_FALSE(migrations.empty());
      for (const auto& m : migrations) EXPECT_EQ(group_of(m["from"]), group_of(m["to"])) << m.dump();
    }
  }
}

// Every group's engines must hold one request of max_model_len, or vLLM refuses to start them: so
// no admitted request is ever too long for a group, and a group too small is an input error that
// names it and the longest context it could take.
TEST(FleetRun, AGroupThatCannotHoldOneLongestRequestIsRefused) {
  Json j = two_kind();
  j["deployment"]["groups"][1]["gpu_memory_utilization"] = 0.212;  // ~1.5k tokens of KV on the H100s
  j["deployment"]["groups"][1]["max_num_seqs"] = 256;              // vLLM's 1024 would size its logits past 0.212
  try {
    scenario_from_json(j, {});
    FAIL() << "an H100 group with ~1.5k tokens of KV accepted max_model_len " << j.dump();
  } catch (const InputError& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("deployment.groups.1: llama-3-8b with tp=1 does not fit a request of max_model_len"),
              std::string::npos)
        << w;
    EXPECT_NE(w.find("Set deployment.max_model_len to at most"), std::string::npos) << w;
  }
  j["deployment"]["max_model_len"] = 1024;  // what the message offers, and what vLLM would start
  j["workload"]["synthetic"]["input_tokens"] = Json{{"type", "uniform"}, {"min", 100}, {"max_value", 800}};
  j["workload"]["synthetic"]["output_tokens"] = Json{{"type", "uniform"}, {"min", 1}, {"max_value", 200}};
  const Json s = run_scenario(j, scratch("fleet-fit"));
  EXPECT_EQ(s["requests"]["rejected"], 0);
  EXPECT_GT(s["requests"]["completed"], 0);
}

TEST(FleetRun, LeastWorkWeighsEachGroupsComputeWhereLeastKvWeighsMemory) {
  // The A100 TP2 instances hold more KV than the H100 TP1 ones but compute more slowly:
  // least_work sends them a smaller share of the requests than least_kv does.
  auto a100_share = [](const char* dispatch) {
    Json j = two_kind();
    j["deployment"]["dispatch"] = dispatch;
    j["workload"]["synthetic"]["rate"] = 40;
    const auto dir = scratch(std::string("fleet-") + dispatch);
    expect_conserved(run_scenario(j, dir));
    int a100 = 0, all = 0;
    for (const auto& r : csv_rows(dir / "requests.csv")) {
      ++all;
      a100 += std::stoi(r.at("instance")) < 2;
    }
    return static_cast<double>(a100) / all;
  };
  const double by_kv = a100_share("least_kv"), by_work = a100_share("least_work");
  // Some, not none: vLLM's A100 token budget (2048, where the H100's is 8192) slows their prompts further.
  EXPECT_GT(by_work, 0.02);
  EXPECT_LT(by_work, by_kv - 0.05) << "least_kv " << by_kv << ", least_work " << by_work;
}

TEST(Disaggregation, EveryRequestIsPrefilledThenHandedOffWithItsKv) {
  const auto dir = scratch("pd");
  const Json s = run_scenario(disaggregated(), dir);
  expect_conserved(s);
  const auto handoffs = rows_of(dir / "decisions.jsonl", "handoff");
  ASSERT_TRUE(s.contains("handoff"));
  EXPECT_EQ(s["handoff"]["handoffs"].get<std::size_t>(), handoffs.size());
  const ModelSpec m = find_model("llama-3-8b", "model");
  const std::int64_t block_bytes = 16LL * m.layers * 2 * m.kv_heads * m.head_dim * dtype_bytes(m.kv_cache_dtype);
  std::map<std::int64_t, Json> by_request;
  for (const auto& h : handoffs) {
    EXPECT_LT(h["from"].get<int>(), 2);  // prefill instances are slots 0-1
    EXPECT_GE(h["to"].get<int>(), 2);
    EXPECT_EQ(h["bytes"].get<std::int64_t>(), h["blocks"].get<std::int64_t>() * block_bytes);
    EXPECT_GT(h["transfer_s"].get<double>(), 0);
    by_request[h["request"].get<std::int64_t>()] = h;
  }
  int multi = 0;
  for (const auto& r : csv_rows(dir / "requests.csv")) {
    ASSERT_EQ(r.at("status"), "finished");
    const double ttft = std::stod(r.at("ttft_s")), done = std::stod(r.at("prefill_done_s"));
    if (std::stoi(r.at("output_tokens")) == 1) {  // nothing to decode: it ends where it was prefilled
      EXPECT_EQ(ttft, done);
      EXPECT_FALSE(by_request.count(std::stoll(r.at("id"))));
      continue;
    }
    ++multi;
    const Json& h = by_request.at(std::stoll(r.at("id")));
    EXPECT_GE(std::stoi(r.at("instance")), 2) << "decoded on a decode instance";
    // The first token comes after the prefill and the whole transfer.
    EXPECT_GE(ttft + 1e-6, done + h["waited_s"].get<double>() + h["transfer_s"].get<double>());
  }
  EXPECT_EQ(static_cast<std::size_t>(multi), handoffs.size());
  // Prefill instances never decode; decode instances never prefill a prompt (no recompute here).
  for (const auto& e : s["instances"])
    if (e["id"].get<int>() < 2) {
      EXPECT_EQ(e["jumped_steps"], 0) << e.dump();
    }
  EXPECT_GT(s["prefill_done_s"]["p50"].get<double>(), 0);
  EXPECT_LT(s["prefill_done_s"]["p50"].get<double>(), s["ttft_s"]["p50"].get<double>());
}

TEST(Disaggregation, AFullDecodeSideMakesHandOffsWaitAndNothingIsLost) {
  Json j = disaggregated();
  j["deployment"]["groups"][1]["gpu_memory_utilization"] = 0.3;
  j["workload"]["synthetic"]["rate"] = 40;
  j["workload"]["synthetic"]["output_tokens"] = Json{{"type", "uniform"}, {"min", 300}, {"max_value", 1500}};
  const auto dir = scratch("pd-full");
  const Json s = run_scenario(j, dir);
  expect_conserved(s);
  EXPECT_EQ(s["requests"]["completed"], s["requests"]["arrived"]);
  EXPECT_GT(s["handoff"]["waited_for_room"].get<std::int64_t>(), 0);
  EXPECT_GT(s["handoff"]["wait_s"]["max"].get<double>(), 0);
  EXPECT_FALSE(rows_of(dir / "decisions.jsonl", "handoff").empty());
  // Reservations never push a decode instance past its pool.
  for (const auto& e : s["instances"]) EXPECT_LE(e["peak_kv_blocks"], e["kv_capacity"]);
  // Clients that give up while their KV waits or moves leave exactly once.
  j["workload"]["client_timeout_s"] = 3;
  const Json t = run_scenario(j, scratch("pd-timeout"));
  expect_conserved(t);
  EXPECT_GT(t["requests"]["aborted"].get<std::int64_t>(), 0);
}

TEST(Disaggregation, KvIsReshardedBetweenTpDegreesOverEveryRanksLinks) {
  // Request 0's transfer: TP2 -> TP2 moves rank to rank in parallel, half the time of TP1 -> TP1;
  // TP1 -> TP2 sends both halves out of one GPU, as slow as TP1 -> TP1.
  auto transfer_of_first = [](int ptp, int dtp) {
    Json j = disaggregated();
    j["cluster"]["gpus_per_node"] = 8;
    j["deployment"]["groups"][0]["tp"] = ptp;
    j["deployment"]["groups"][1]["tp"] = dtp;
    const auto dir = scratch("pd-tp" + std::to_string(ptp) + std::to_string(dtp));
    run_scenario(j, dir);
    for (const auto& h : rows_of(dir / "decisions.jsonl", "handoff"))
      if (h["request"] == 0) return std::pair{h["transfer_s"].get<double>(), h["bytes"].get<std::int64_t>()};
    ADD_FAILURE() << "request 0 was not handed off";
    return std::pair{0.0, std::int64_t{0}};
  };
  const auto [t11, b11] = transfer_of_first(1, 1);
  const auto [t22, b22] = transfer_of_first(2, 2);
  const auto [t12, b12] = transfer_of_first(1, 2);
  EXPECT_EQ(b11, b22);
  EXPECT_EQ(b11, b12);
  EXPECT_NEAR(t22, t11 / 2, t11 * 0.05);
  EXPECT_NEAR(t12, t11, t11 * 0.05);
  // Layer-wise streaming starts with the prefill: request 0's KV is there sooner after it.
  Json lw = disaggregated();
  lw["deployment"]["kv_transfer"] = "layerwise";
  const auto dir = scratch("pd-layerwise");
  run_scenario(lw, dir);
  for (const auto& h : rows_of(dir / "decisions.jsonl", "handoff"))
    if (h["request"] == 0) {
      EXPECT_LT(h["transfer_s"].get<double>(), t11);
    }
}

TEST(FleetCli, PlanSearchesANamedGroupAndPricesEachKind) {
  const auto dir = scratch("fleet-plan");
  test::write_file(dir / "s.json", two_kind().dump());
  std::string log;
  ASSERT_EQ(test::run_kunsim("plan " + (dir / "s.json").string() + " --vary deployment.groups.h.count --target 'ttft.p99<=5' --max 6 --out " +
                                 (dir / "out").string(),
                             &log),
            0)
      << log;
  const Json plan = Json::parse(read_file(dir / "out" / "plan.json"));
  EXPECT_EQ(plan["group"], "h");
  EXPECT_EQ(plan["gpus"]["h100-sxm"]["price_per_gpu_hour"], 2.5);
  const Json& r = plan["policies"]["vllm"];
  ASSERT_TRUE(r["value"].is_number()) << r.dump();
  const int h = r["value"].get<int>();
  EXPECT_EQ(r["gpus_by_kind"]["a100-80g"], 4);
  EXPECT_EQ(r["gpus_by_kind"]["h100-sxm"], h);
  EXPECT_DOUBLE_EQ(r["dollars_per_hour"].get<double>(), 4 * 1.5 + h * 2.5);
  // Counts beyond the H100 node add H100 nodes only.
  bool grew = false;
  for (const auto& p : r["probes"]) grew |= p["deployment.groups.h.count"].get<int>() > 4;
  EXPECT_TRUE(grew || h <= 4);
  EXPECT_EQ(test::run_kunsim("plan " + (dir / "s.json").string() + " --vary deployment.groups.x.count", &log), 2);
  EXPECT_NE(log.find("no instance group named x (groups: a, h)"), std::string::npos) << log;
}

// TP4 x 2 outgrows the A100 node: the sweep adds an A100 node as plan does (one placement rule;
// until it did, the point was infeasible). TP3 divides no node: that point is infeasible.
TEST(FleetCli, ASweepZipsGroupFieldsAddsNodesAndRecordsInfeasiblePoints) {
  const auto dir = scratch("fleet-sweep");
  Json base = two_kind();
  test::write_file(dir / "base.json", base.dump());
  test::write_file(
      dir / "s.json",
      Json{{"name", "tp"},
           {"base", (dir / "base.json").string()},
           {"zip", {{"deployment.groups.0.tp", {2, 4, 4, 3}}, {"deployment.groups.0.count", {2, 1, 2, 1}}}}}
          .dump());
  std::string log;
  ASSERT_EQ(test::run_kunsim("sweep " + (dir / "s.json").string() + " --out " + (dir / "out").string(), &log), 0)
      << log;
  const std::string csv = read_file(dir / "out" / "sweep.csv");
  // Columns: count, then tp (keys in order).
  EXPECT_NE(csv.find("\n0,2,2,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n1,1,4,"), std::string::npos) << csv;
  const auto row2 = csv.find("\n2,2,4,");
  ASSERT_NE(row2, std::string::npos) << csv;
  EXPECT_NE(csv.find(",ok,", row2), std::string::npos) << csv;
  EXPECT_EQ(csv.find("\n2,2,4,,"), std::string::npos) << csv;
  EXPECT_NE(log.find("1 runs added nodes to place their instances, as plan does (run 2: cluster.node_groups."),
            std::string::npos)
      << log;
  EXPECT_NE(csv.find("\n3,1,3,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("infeasible: deployment.groups.0.tp: 3 does not divide"), std::string::npos) << csv;
}

}  // namespace
}  // namespace kunsim
