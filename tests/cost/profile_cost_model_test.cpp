// The measured-profile cost model: reading profiles (and nccl-tests logs), interpolation and
// extrapolation, the held-out fit report and the whole-iteration check, on a synthetic profile
// written from a known "truth" (roofline op times with a smooth distortion and 0.5% noise).
#include "sim/cost/profile_cost_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>

#include "calibrate/grid.hpp"
#include "calibrate/profile_writer.hpp"
#include "sim/cost/fit_report.hpp"
#include "sim/cost/profile_compare.hpp"
#include "sim/cost/shipped_profiles.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {

using test::scratch;
using test::write_file;

// The truth a GPU would show: roofline op times bent by a smooth efficiency curve.
struct Truth {
  const ModelSpec& m = find_model("llama-3-8b", "model");
  RooflineCostModel rl{m, find_gpu("h100-sxm", "gpu"), {450e9, 2000}, 1, {}};
  static double bend(double x) { return 1.0 + 0.15 * x / (x + 512.0); }
  double op(const std::string& name, double t) const {
    const double h = m.hidden, q = m.q_width(), kv = m.kv_width(), f = m.ffn;
    double s = 0;
    if (name == "gemm_qkv") s = rl.gemm(t, h, q + 2 * kv);
    if (name == "gemm_o") s = rl.gemm(t, q, h);
    if (name == "gemm_gate_up") s = rl.gemm(t, h, 2 * f);
    if (name == "gemm_down") s = rl.gemm(t, f, h);
    if (name == "silu_mul") s = 3 * t * f * 2 / 2.8e12 + 2e-6;
    if (name == "rmsnorm") s = 2 * t * h * 2 / 2.8e12 + 2e-6;
    return s * bend(t);
  }
  double prefill(double chunk, double ctx) const {
    return (4.0 * 32 * 128 * chunk * (ctx + chunk / 2) / 5e14 + 4e-6) * bend(chunk);
  }
  double decode(double batch, double ctx_sum) const {
    return (ctx_sum * 2 * 1024 * 2 / 2.7e12 + 3e-6 * std::sqrt(batch)) * bend(ctx_sum / batch);
  }
  double iteration(double prefill_tokens, double prefill_ctx, double decodes, double ctx_sum) const {
    const double t = prefill_tokens + decodes;
    double layer = op("gemm_qkv", t) + op("gemm_o", t) + op("gemm_gate_up", t) + op("gemm_down", t) +
                   op("silu_mul", t) + 2 * op("rmsnorm", t);
    if (prefill_tokens > 0) layer += prefill(prefill_tokens, prefill_ctx);
    if (decodes > 0) layer += decode(decodes, ctx_sum);
    BatchShape s;
    s.num_decodes = static_cast<int>(decodes);
    s.decode_context_sum = static_cast<std::int64_t>(ctx_sum);
    s.layers = 32;
    s.sampled = static_cast<int>(decodes) + (prefill_tokens > 0);
    if (prefill_tokens > 0) s.prefills = {{static_cast<int>(prefill_tokens), static_cast<int>(prefill_ctx)}};
    return 32 * layer + rl.iteration(s).lm_head;
  }
};

double noise(int i) { return 1.0 + 0.005 * std::sin(i * 12.9898); }  // deterministic +-0.5%

std::filesystem::path write_profile(const std::string& name) {
  const auto dir = scratch(name);
  const Truth truth;
  std::ostringstream ops;
  ops << "op,model,tp,p1,p2,median_s,repeats\n";
  int i = 0;
  std::vector<double> tokens;
  for (double t = 1; t <= 16384; t *= std::sqrt(2.0)) tokens.push_back(std::round(t));
  for (const char* op : {"gemm_qkv", "gemm_o", "gemm_gate_up", "gemm_down", "silu_mul", "rmsnorm"})
    for (double t : tokens) ops << op << ",llama-3-8b,1," << t << ",0," << truth.op(op, t) * noise(++i) << ",20\n";
  for (double chunk : {64, 256, 1024, 4096})
    for (double ctx = 0; ctx <= 16384; ctx = ctx == 0 ? 256 : ctx * 2)
      ops << "attn_prefill,llama-3-8b,1," << chunk << "," << ctx << "," << truth.prefill(chunk, ctx) * noise(++i) << ",20\n";
  for (double batch : {1, 8, 32, 128, 256})
    for (double per = 128; per <= 16384; per *= 2)
      ops << "attn_decode,llama-3-8b,1," << batch << "," << batch * per << ","
          << truth.decode(batch, batch * per) * noise(++i) << ",20\n";
  write_file(dir / "ops.csv", ops.str());
  std::ostringstream its;
  its << "model,tp,prefill_tokens,prefill_context,decodes,decode_context_sum,measured_s\n";
  for (int d : {1, 16, 64, 200})
    for (int p : {0, 300, 2000}) {
      const double ctx = d * 900.0;
      its << "llama-3-8b,1," << p << ",0," << d << "," << ctx << "," << truth.iteration(p, 0, d, ctx) * noise(++i) << "\n";
    }
  write_file(dir / "iterations.csv", its.str());
  write_file(dir / "meta.json", R"({"gpu": "synthetic H100", "kind": "h100-sxm", "driver": "-", "cuda": "-",
                                  "sm_clock_mhz": 1980, "date": "2026-11-24"})");
  write_file(dir / "ar.nccl.txt",
             "# nccl-tests all_reduce_perf\n"
             "#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong\n"
             "        1024           256     float     sum      -1    12.10    0.08    0.13      0    11.90    0.09    0.13      0\n"
             "     1048576        262144     float     sum      -1    25.30   41.44   62.17      0    25.10   41.78   62.67      0\n"
             "   134217728      33554432     float     sum      -1   410.20  327.20  490.80      0   409.90  327.44  491.16      0\n");
  return dir;
}

TEST(ProfileCostModel, FitReportMeetsTheAccuracyTargetsOnASmoothProfile) {
  const Profile p = load_profile(write_profile("fit").string());
  const Json r = fit_report(p);
  EXPECT_EQ(r["gpu"], "synthetic H100");
  for (const char* op : kComputeOps) {
    ASSERT_TRUE(r["ops"].contains(op)) << op;
    EXPECT_LT(r["ops"][op]["heldout_mape"].get<double>(), 0.03) << op;  // the issue's target: <= 3%
    EXPECT_GT(r["ops"][op]["points"].get<int>(), 10) << op;
  }
  EXPECT_EQ(r["ops"]["allreduce"]["points"], 3) << "the nccl-tests log became allreduce rows";
  EXPECT_EQ(r["iteration_check"]["points"], 12);
  EXPECT_LT(r["iteration_check"]["median_ape"].get<double>(), 0.05);  // target: <= 5%
}

TEST(ProfileCostModel, PredictsOffGridShapesAndExtrapolatesLinearly) {
  const Profile p = load_profile(write_profile("predict").string());
  const Truth truth;
  const ProfileCostModel cm(p, truth.m, find_gpu("h100-sxm", "gpu"), {450e9, 2000}, 1, {});
  for (double t : {3.0, 777.0, 5000.0}) {
    BatchShape s;
    s.prefills = {{static_cast<int>(t), 0}};
    s.layers = 1;
    const double want = truth.op("gemm_qkv", t);
    EXPECT_NEAR(cm.iteration(s).qkv, want, 0.05 * want) << t;
  }
  BatchShape big;
  big.prefills = {{32768, 0}};
  big.layers = 1;
  BatchShape edge = big;
  edge.prefills = {{16384, 0}};
  EXPECT_NEAR(cm.iteration(big).qkv / cm.iteration(edge).qkv, 2.0, 0.06) << "past the grid: linear in tokens";
  EXPECT_NE(cm.describe().find("synthetic H100"), std::string::npos);
}

TEST(ProfileCostModel, BadRowsAndMissingOpsNameTheirPlace) {
  const auto dir = scratch("bad-profile");
  write_file(dir / "ops.csv", "op,model,tp,p1,p2,median_s,repeats\ngemm_qkv,llama-3-8b,1,16,0,abc,20\n");
  try {
    load_profile(dir.string());
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "ops.csv").string() + ":2: median_s: expected a finite number >= 0, got \"abc\"");
  }
  write_file(dir / "ops.csv", "op,model,tp,p1,p2,median_s,repeats\ngemm_qkv,llama-3-8b,1,16,0,0.001,20\n");
  const Profile p = load_profile(dir.string());
  try {
    ProfileCostModel(p, find_model("llama-3-8b", "m"), find_gpu("h100-sxm", "g"), {450e9, 2000}, 1, {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("profile has no \"gemm_o\" rows for llama-3-8b tp=1"), std::string::npos);
  }
  write_file(dir / "x.nccl.txt", "no data here\n");
  EXPECT_THROW(load_profile(dir.string()), InputError);
}

TEST(ProfileCostModel, ScenarioRunsOnAProfileAndSaysSo) {
  const auto dir = write_profile("scenario-profile");
  Json j = test::tiny_cluster_scenario();
  j["cost"] = {{"model", "profile"}, {"profile", dir.string()}};
  const Json s = test::run_scenario(j);
  EXPECT_EQ(s["cost_model"].get<std::string>().rfind("profile " + dir.string(), 0), 0u) << s["cost_model"];
  EXPECT_EQ(s["requests"]["unfinished"], 0);
  j["cost"] = {{"model", "profile"}};
  EXPECT_THROW(scenario_from_json(j, TracePaths{}), InputError);
}

// kunsim-calibrate's writer and the simulator's reader agree on the format: rows written by
// ProfileWriter load, fit and price; a second run replaces only what it re-measured.
TEST(ProfileCostModel, CalibrationWriterRoundTripsAndMergesRuns) {
  const auto dir = scratch("writer");
  const Truth truth;
  calibrate::ProfileWriter w(dir.string());
  for (const char* op : kComputeOps) {
    const std::string name = op;
    for (double t = 1; t <= 16384; t *= 2) {
      double secs = 0, p2 = 0;
      if (name == "attn_prefill") secs = truth.prefill(t, 0);
      else if (name == "attn_decode") secs = truth.decode(t, p2 = t * 1024);
      else secs = truth.op(name, t);
      w.add(calibrate::OpRow{name, "llama-3-8b", 1, t, p2, secs, 27});
      if (name == "attn_prefill") w.add(calibrate::OpRow{name, "llama-3-8b", 1, t, 4096, truth.prefill(t, 4096), 27});
      if (name == "attn_decode") w.add(calibrate::OpRow{name, "llama-3-8b", 1, t, t * 64, truth.decode(t, t * 64), 27});
    }
  }
  for (double r : {1.0, 64.0, 512.0}) w.add(calibrate::OpRow{"gemm_lm_head", "llama-3-8b", 1, r, 0, 1e-4 * (1 + r / 64), 27});
  for (double t : {1.0, 1024.0, 16384.0}) w.add(calibrate::OpRow{"rope_cache", "llama-3-8b", 1, t, 0, 2e-6 * (1 + t / 512), 27});
  for (double b : {4096.0, 1048576.0}) w.add(calibrate::OpRow{"allreduce", "", 4, b, 0, 1e-5 + b / 2e11, 27});
  w.add(calibrate::IterationRow{"llama-3-8b", 1, 0, 0, 16, 16 * 1024, truth.iteration(0, 0, 16, 16 * 1024)});
  // Mixed-batch attention measured 10% over the sum of its parts: the check must show it.
  for (int d : {16, 64})
    w.add_mixed_attention(calibrate::IterationRow{"llama-3-8b", 1, 512, 0, d, d * 1024LL,
                                                  1.1 * (truth.prefill(512, 0) + truth.decode(d, d * 1024.0))});
  w.write({{"gpu", "synthetic H100"}, {"kind", "h100-sxm"}, {"date", "2026-11-24"}},
          {{{"model", "llama-3-8b"}, {"tp", 1}, {"points", 100}}});

  Profile p = load_profile(dir.string());
  EXPECT_TRUE(p.covers("llama-3-8b", 1));
  EXPECT_EQ(p.meta["runs"].size(), 1u);
  ASSERT_NE(p.find("allreduce", "llama-3-8b", 4), nullptr) << "all-reduce rows are kept per rank count";
  EXPECT_EQ(p.find("allreduce", "llama-3-8b", 2), nullptr);
  const Json r = fit_report(p);
  EXPECT_TRUE(r["ops"].contains("allreduce@4"));
  EXPECT_EQ(r["iteration_check"]["points"], 1);
  EXPECT_EQ(p.mixed_attention.size(), 2u);
  EXPECT_EQ(r["mixed_attention_check"]["points"], 2);
  EXPECT_NEAR(r["mixed_attention_check"]["median_ape"].get<double>(), 0.1 / 1.1, 0.02);

  // The measured LM head and rope replace the roofline's; the summary line says what is left.
  const ProfileCostModel cm(p, truth.m, find_gpu("h100-sxm", "gpu"), {450e9, 2000}, 1, {});
  BatchShape s;
  s.num_decodes = 64;
  s.decode_context_sum = 64 * 1024;
  s.layers = 32;
  s.sampled = 64;
  EXPECT_NEAR(cm.iteration(s).lm_head, 2e-4, 1e-9);
  EXPECT_EQ(cm.describe().find("LM head"), std::string::npos) << cm.describe();
  EXPECT_EQ(cm.describe().find("rope"), std::string::npos) << cm.describe();

  // A second run that re-measured gemm_o only: gemm_o's rows are replaced, the rest kept.
  calibrate::ProfileWriter again(dir.string());
  for (double t = 1; t <= 16384; t *= 2) again.add(calibrate::OpRow{"gemm_o", "llama-3-8b", 1, t, 0, 1.0, 9});
  again.write({{"gpu", "synthetic H100"}, {"kind", "h100-sxm"}, {"date", "2026-11-25"}},
              {{{"model", "llama-3-8b"}, {"tp", 1}, {"points", 15}}});
  p = load_profile(dir.string());
  ASSERT_NE(p.find("gemm_o", "llama-3-8b", 1), nullptr);
  EXPECT_EQ(p.find("gemm_o", "llama-3-8b", 1)->size(), 15u);
  for (const auto& pt : *p.find("gemm_o", "llama-3-8b", 1)) EXPECT_EQ(pt.seconds, 1.0);
  EXPECT_EQ(p.find("gemm_qkv", "llama-3-8b", 1)->size(), 15u);
  EXPECT_EQ(p.iterations.size(), 1u);
  EXPECT_EQ(p.mixed_attention.size(), 2u) << "a run that measured no mixed batches keeps the old rows";
  EXPECT_EQ(p.meta["date"], "2026-11-25");
  EXPECT_EQ(p.meta["runs"].size(), 1u) << "the same model and tp replace their run entry";
}

// ops.csv's versions: a profile written before kunsim-calibrate recorded the spread (median
// only) still loads, and a session writing into it upgrades the file: the kept rows get empty
// min_s and p90_s, the new rows their measured spread.
TEST(ProfileCostModel, OpsCsvKeepsItsEarlierVersionReadableAndUpgradesIt) {
  const auto dir = write_profile("ops-versions");  // the earlier header: no min_s, p90_s
  ASSERT_EQ(test::read_file(dir / "ops.csv").rfind("op,model,tp,p1,p2,median_s,repeats\n", 0), 0u);
  ASSERT_NO_THROW(load_profile(dir.string()));
  calibrate::ProfileWriter w(dir.string());
  w.add(calibrate::OpRow{"gemm_o", "llama-3-8b", 1, 64, 0, 2e-5, 90, 1.9e-5, 2.2e-5});
  w.write({{"gpu", "synthetic H100"}, {"kind", "h100-sxm"}}, {});
  const std::string csv = test::read_file(dir / "ops.csv");
  EXPECT_EQ(csv.rfind("op,model,tp,p1,p2,median_s,repeats,min_s,p90_s\n", 0), 0u);
  EXPECT_NE(csv.find("gemm_o,llama-3-8b,1,64,0,2.000000e-05,90,1.900000e-05,2.200000e-05\n"), std::string::npos);
  EXPECT_NE(csv.find(",20,,\n"), std::string::npos) << "a kept row, padded";
  const Profile p = load_profile(dir.string());
  ASSERT_NE(p.find("gemm_o", "llama-3-8b", 1), nullptr);
  EXPECT_EQ(p.find("gemm_o", "llama-3-8b", 1)->size(), 1u);
  EXPECT_EQ(p.find("gemm_qkv", "llama-3-8b", 1)->size(), 28u) << "write_profile's 28 token counts, kept";
  // A header of neither version is refused with file:line.
  write_file(dir / "ops.csv", "op,model,tp,p1,p2,seconds\n");
  try {
    load_profile(dir.string());
    ADD_FAILURE() << "an unknown ops.csv header was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("ops.csv:1: expected header"), std::string::npos) << e.what();
  }
}

TEST(ProfileCostModel, NcclTestsRankLinesKeyAllReduceRowsByRankCount) {
  const auto dir = scratch("nccl-ranks");
  write_file(dir / "ops.csv", "op,model,tp,p1,p2,median_s,repeats\n");
  write_file(dir / "ar8.nccl.txt",
             "# nThread 1 nGpus 8 minBytes 1024 maxBytes 134217728 step: 2(factor) warmup iters: 5 iters: 20\n"
             "#  Rank  0 Group  0 Pid   1234 on   node0 device  0 [0x18] NVIDIA H100 80GB HBM3\n"
             "#  Rank  1 Group  0 Pid   1234 on   node0 device  1 [0x2a] NVIDIA H100 80GB HBM3\n"
             "#  Rank  2 Group  0 Pid   1234 on   node0 device  2 [0x3a] NVIDIA H100 80GB HBM3\n"
             "#  Rank  3 Group  0 Pid   1234 on   node0 device  3 [0x5d] NVIDIA H100 80GB HBM3\n"
             "# all_reduce_perf\n"
             "        1024           256     float     sum      -1    12.10    0.08    0.13      0    11.90    0.09    0.13      0\n"
             "     1048576        262144     float     sum      -1    25.30   41.44   62.17      0    25.10   41.78   62.67      0\n");
  const Profile p = load_profile(dir.string());
  ASSERT_NE(p.find("allreduce", "any", 4), nullptr);
  EXPECT_EQ(p.find("allreduce", "any", 4)->size(), 2u);
  EXPECT_EQ(p.find("allreduce", "any", 8), nullptr) << "a 4-rank log says nothing of 8 ranks";
}

TEST(ProfileCostModel, CalibrationGridCoversTheCostModelsAxes) {
  const calibrate::Grid g = calibrate::Grid::make(false, 1 << 20);
  EXPECT_EQ(g.tokens.front(), 1);
  EXPECT_EQ(g.tokens.back(), 16384);
  EXPECT_TRUE(std::is_sorted(g.tokens.begin(), g.tokens.end()));
  int skewed = 0;
  for (const auto& lens : g.decode) {
    std::int64_t sum = 0;
    for (int l : lens) sum += l;
    EXPECT_LE(sum, 1 << 20) << "decode points stay inside the KV pool";
    if (std::adjacent_find(lens.begin(), lens.end(), std::not_equal_to<>()) != lens.end()) ++skewed;
  }
  EXPECT_GE(skewed, 12) << "skewed context mixes, not only uniform ones";
  for (const auto& c : g.iterations) EXPECT_LE(c.prefills.size(), 1u) << "iterations.csv holds one prefill chunk";
  EXPECT_FALSE(g.transfer_bytes.empty());
  const calibrate::Grid small = calibrate::Grid::make(false, 4096);
  for (const auto& lens : small.decode) EXPECT_LE(std::accumulate(lens.begin(), lens.end(), 0LL), 4096);
}

// cost.model "auto" (the default): the GPU kind's shipped profile when it covers the model and
// TP degree, else the roofline, and the summary says which and why. H100s have a committed
// profile; the PCIe card has none.
TEST(ProfileCostModel, AutoUsesTheShippedProfileWhereOneCoversTheScenario) {
  ::unsetenv("KUNSIM_MEASURED_DIR");
  Json j = test::tiny_cluster_scenario();
  const Scenario sc = scenario_from_json(j, TracePaths{});
  ASSERT_TRUE(shipped_profile(sc.cluster.gpu.name, sc.model.name, sc.engine.tp));
  const Json s = test::run_scenario(j);
  EXPECT_EQ(sc.cost_model, "profile");
  EXPECT_NE(s["cost_source"].get<std::string>().find("cost.model=auto"), std::string::npos);
  EXPECT_EQ(s["cost_source"].get<std::string>().rfind("measured: ", 0), 0u) << s["cost_source"];
  j["cluster"]["gpu"] = "h100-pcie";
  EXPECT_EQ(shipped_profile("h100-pcie", sc.model.name, sc.engine.tp), nullptr);
  const Json pcie = test::run_scenario(j);
  EXPECT_EQ(pcie["cost_source"].get<std::string>().rfind("roofline: ", 0), 0u) << pcie["cost_source"];
  EXPECT_EQ(pcie["cost_model"].get<std::string>().rfind("roofline", 0), 0u);
  j["cost"] = {{"model", "roofline"}};
  EXPECT_EQ(test::run_scenario(j)["cost_source"], "roofline (cost.model=roofline)");
  EXPECT_EQ(shipped_profile("no-such-gpu", sc.model.name, 1), nullptr);
}

// compare-profiles: a profile against itself is 1x everywhere; against a copy whose decode
// attention rows are twice as slow, A/B is 1/2 for attn_decode (1 for the other ops) and its
// MAPE against B is 50% (B takes twice A's time); the other way round, 2 and 100%.
TEST(ProfileCompare, RatiosAndMapeOpByOp) {
  const auto dir = write_profile("compare-a");
  const Profile a = load_profile(dir.string());
  const Json same = compare_profiles(a, a);
  ASSERT_EQ(same["shards"].size(), 1u);
  EXPECT_EQ(same["shards"][0]["model"], "llama-3-8b");
  for (const auto& [op, v] : same["shards"][0]["ops"].items()) {
    EXPECT_DOUBLE_EQ(v["ratio"].get<double>(), 1.0) << op;
    EXPECT_DOUBLE_EQ(v["mape_pct"].get<double>(), 0.0) << op;
  }
  // B: the same rows, decode attention twice as slow.
  const auto slow = scratch("compare-b");
  std::filesystem::copy(dir, slow, std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
  std::istringstream in(test::read_file(dir / "ops.csv"));
  std::ostringstream out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("attn_decode,", 0) == 0) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
      std::ostringstream twice;
      twice.precision(17);
      twice << 2 * std::stod(f[5]);
      f[5] = twice.str();
      line = f[0];
      for (std::size_t i = 1; i < f.size(); ++i) line += "," + f[i];
    }
    out << line << "\n";
  }
  write_file(slow / "ops.csv", out.str());
  const Json c = compare_profiles(a, load_profile(slow.string()));
  const Json& ops = c["shards"][0]["ops"];
  EXPECT_NEAR(ops["attn_decode"]["ratio"].get<double>(), 0.5, 1e-4);
  EXPECT_NEAR(ops["attn_decode"]["mape_pct"].get<double>(), 50.0, 1e-2);
  EXPECT_EQ(ops["attn_decode"]["shapes"], 8);
  EXPECT_DOUBLE_EQ(ops["qkv"]["ratio"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(ops["attn_prefill"]["ratio"].get<double>(), 1.0);
  EXPECT_LT(ops["iteration"]["ratio"].get<double>(), 1.0);
  const Json back = compare_profiles(load_profile(slow.string()), a);
  EXPECT_NEAR(back["shards"][0]["ops"]["attn_decode"]["ratio"].get<double>(), 2.0, 1e-4);
  EXPECT_NEAR(back["shards"][0]["ops"]["attn_decode"]["mape_pct"].get<double>(), 100.0, 1e-2);
}

}  // namespace
}  // namespace kunsim
