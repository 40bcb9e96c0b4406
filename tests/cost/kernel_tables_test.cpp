// Kernel-table profiles (format 2): the importer, the outlier-robust interpolator, derived
// attention shapes, the composition of chunks and batches, the all-reduce choice, and the
// overhead terms, each against figures worked by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/aiconfigurator_import.hpp"
#include "sim/cost/fit_report.hpp"
#include "sim/cost/kernel_table_cost_model.hpp"
#include "sim/cost/kernel_table_interp.hpp"
#include "sim/cost/shipped_profiles.hpp"
#include "sim/model/model_spec.hpp"
#include "test_support.hpp"

namespace kunsim {
namespace {
using namespace std::string_literals;

// --- the outlier-robust interpolator ---

TEST(RobustInterpolator, ASpikeDoesNotRaiseEveryLargerSize) {
  // y = x over 1..64 (a throughput-bound kernel), one measurement 5x slow at x = 8.
  std::vector<std::pair<double, double>> xy;
  for (double x : {1, 2, 4, 8, 16, 32, 64}) xy.emplace_back(x, x == 8 ? 40.0 : x);
  const Interpolator1D f(xy);
  // A running maximum would price 16 and 32 at 40; the spike is dropped instead.
  EXPECT_DOUBLE_EQ(f.at(16), 16.0);
  EXPECT_DOUBLE_EQ(f.at(32), 32.0);
  EXPECT_NEAR(f.at(8), 8.0, 1e-9);  // interpolated between 4 and 16 in log-log space
  std::vector<bool> out;
  robust_monotone(xy, &out);
  EXPECT_EQ(std::count(out.begin(), out.end(), true), 1);
  EXPECT_TRUE(out[3]);
}

TEST(RobustInterpolator, AnIsolatedDipIsDroppedAndSmallViolationsArePooled) {
  // A dip to a third at x = 4; at x = 16 a 10% wobble below x = 8 (pooled, not dropped).
  std::vector<std::pair<double, double>> xy = {{1, 10}, {2, 10}, {4, 3.3}, {8, 20}, {16, 18}, {32, 40}};
  std::vector<bool> out;
  const auto kept = robust_monotone(xy, &out);
  EXPECT_TRUE(out[2]);
  ASSERT_EQ(kept.size(), 5u);
  EXPECT_NEAR(kept[2].second, std::sqrt(20.0 * 18.0), 1e-9);  // pool-adjacent-violators in log time
  EXPECT_NEAR(kept[3].second, std::sqrt(20.0 * 18.0), 1e-9);
  for (std::size_t i = 1; i < kept.size(); ++i) EXPECT_GE(kept[i].second, kept[i - 1].second);
}

TEST(RobustInterpolator, SlowSmallSizesBeforeAFastPlateauAreOutliers) {
  // Four warm-up-slow small messages (39 us) before a 21 us plateau: more data cannot run 30%
  // faster, so the slow ones are not the kernel's time.
  std::vector<std::pair<double, double>> xy = {{256, 39}, {512, 38}, {1024, 40}, {2048, 39.5},
                                               {4096, 21}, {8192, 21.5}, {16384, 22}, {32768, 25}};
  std::vector<bool> out;
  robust_monotone(xy, &out);
  EXPECT_EQ(std::count(out.begin(), out.end(), true), 4);
  EXPECT_NEAR(Interpolator1D(xy).at(512), 21.0, 1e-9);  // the floor below the first kept point
}

// --- hand-built kernel tables ---

KernelTables small_tables() {
  KernelTables t;
  // GEMM: us = 2 + m * n * k / 1e9 on a (n, k) grid of {1024, 4096} x {1024, 4096}.
  for (double n : {1024.0, 4096.0})
    for (double k : {1024.0, 4096.0})
      for (double m : {1.0, 16.0, 256.0, 4096.0}) t.gemm.push_back({m, n, k, 2 + m * n * k / 1e9});
  // Attention on shape 32/8x128: prefill us = 10 + b * L^2 / 1e4; decode us = 10 + b * ctx / 100.
  const HeadShape s{32, 8, 128};
  for (int b : {1, 4})
    for (int len : {16, 256, 4096}) {
      t.prefill.push_back({b, len, s, 10 + b * double(len) * len / 1e4});
      t.decode.push_back({b, len, s, 10 + b * double(len) / 100});
    }
  for (double bytes : {1e3, 1e6, 1e8}) {
    t.allreduce.push_back({"vllm_graph", 2, bytes, 5 + bytes / 1e5});
    t.allreduce.push_back({"vllm_eager", 2, bytes, 20 + bytes / 1e5});
    t.allreduce.push_back({"nccl", 2, bytes, 15 + bytes / 2e5});
  }
  t.sort();
  return t;
}

Profile small_profile() {
  Profile p;
  p.dir = "small";
  p.name = "small";
  p.format = 2;
  p.variant = "production-import";
  p.meta = {{"format", 2}, {"kind", "h100-sxm"}, {"gpu", "test GPU"}};
  p.kernels = small_tables();
  return p;
}

// A model whose TP shard has the tables' head shape: 64 heads / 16 KV heads of 128 at TP 2.
ModelSpec shard_model() {
  ModelSpec m = find_model("llama-3-8b", "m");
  m.name = "test";
  m.heads = 64;
  m.kv_heads = 16;
  m.hidden = 8192;
  m.layers = 2;
  return m;
}

TEST(KernelTables, GemmIsLogLogInMnk) {
  const GemmTable t(small_tables().gemm);
  EXPECT_NEAR(t.seconds(256, 1024, 4096), (2 + 256.0 * 1024 * 4096 / 1e9) * 1e-6, 1e-12);  // on the grid
  // Between n = 1024 and 4096 at n = 2048: the geometric mean of the two corner times.
  const double lo = 2 + 4096.0 * 1024 * 1024 / 1e9, hi = 2 + 4096.0 * 4096 * 1024 / 1e9;
  EXPECT_NEAR(t.seconds(4096, 2048, 1024), std::sqrt(lo * hi) * 1e-6, 1e-12);
  // Past the largest n, linear growth; below the smallest m, the floor.
  EXPECT_NEAR(t.seconds(4096, 8192, 1024), 2 * hi * 1e-6, 1e-12);
  EXPECT_NEAR(t.seconds(0.5, 1024, 1024), (2 + 1024.0 * 1024 / 1e9) * 1e-6, 1e-12);
}

TEST(KernelTables, DerivedShapesReadTheReferenceAtTheBatchOfEqualWork) {
  const KernelTables k = small_tables();
  const AttentionTable decode(k.decode, true), prefill(k.prefill, false);
  // MHA decode (32/32x128) is absent: 32/8x128 reads a quarter of its KV bytes per sequence, so
  // 32/32 at batch 1 is 32/8 at batch 4 (us = 10 + 4 * ctx / 100), not batch 1's time x4.
  const AttentionCurve d = decode.curve({32, 32, 128});
  ASSERT_TRUE(d.derived);
  EXPECT_EQ(d.reference, (HeadShape{32, 8, 128}));
  EXPECT_DOUBLE_EQ(d.batch_scale, 4.0);
  EXPECT_NEAR(d.seconds(1, 4096), (10 + 4 * 4096 / 100.0) * 1e-6, 1e-12);
  // Prefill is FLOPs, heads x head_dim: 16/4x128 is half of 32/8x128 per prompt. Below the
  // reference's batch 1 it is half of batch 1's time above the fixed cost (the fastest call,
  // 10 + 16^2 / 1e4 us).
  const AttentionCurve p = prefill.curve({16, 4, 128});
  ASSERT_TRUE(p.derived);
  EXPECT_DOUBLE_EQ(p.batch_scale, 0.5);
  const double floor = 10 + 16.0 * 16 / 1e4, t1 = 10 + 4096.0 * 4096 / 1e4;
  EXPECT_NEAR(p.seconds(1, 4096), (floor + (t1 - floor) * 0.5) * 1e-6, 1e-12);
  EXPECT_NEAR(p.seconds(8, 4096), (10 + 4 * 4096.0 * 4096 / 1e4) * 1e-6, 1e-12);  // batch 4 of 32/8
  EXPECT_FALSE(prefill.curve({32, 8, 128}).derived);
}

TEST(KernelTables, DerivationPrefersTheSameGqaGroupThenTheNearestWork) {
  // With 8/8x128 measured beside 32/8x128, MHA 32/32 derives from the MHA kernel (the same thread
  // blocks per KV byte); 4/1x128 from 32/8 (same group) over the smaller 1/1.
  std::vector<AttentionRow> rows;
  for (const HeadShape s : {HeadShape{32, 8, 128}, HeadShape{8, 8, 128}, HeadShape{1, 1, 128}, HeadShape{64, 8, 64}})
    for (int b : {1, 4})
      for (int len : {16, 4096}) rows.push_back({b, len, s, 10.0 + b * len / 100.0});
  const AttentionTable decode(rows, true);
  EXPECT_EQ(decode.curve({32, 32, 128}).reference, (HeadShape{8, 8, 128}));
  EXPECT_EQ(decode.curve({4, 1, 128}).reference, (HeadShape{32, 8, 128}));
  // Of two references in the group, the nearer in work: 16/16 is 8/8 at twice the batch (not 1/1
  // at 16x); 2/2 is 1/1 at twice the batch (not 8/8 at a quarter).
  EXPECT_EQ(decode.curve({16, 16, 128}).reference, (HeadShape{8, 8, 128}));
  EXPECT_EQ(decode.curve({2, 2, 128}).reference, (HeadShape{1, 1, 128}));
  EXPECT_EQ(decode.curve({8, 1, 64}).reference, (HeadShape{64, 8, 64}));  // head_dim before group
}

// Llama-2-7B's MHA decode (32/32x128 at TP 1) is not in NVIDIA's H100 tables. At a batch that
// reads a gigabyte of KV per layer the kernel is bandwidth bound: the derived time must be the
// KV bytes at the copy rate DESIGN measured (3.0 TB/s, read + written), give or take what the
// measured FA3 kernel itself shows (3.04 TB/s reading 32/8x128 at batch 64 and 4k).
TEST(KernelTables, DerivedMhaDecodeMeetsTheBandwidthPhysics) {
  const auto profile = shipped_profile_named("h100-sxm", "aiconfigurator-vllm");
  ASSERT_TRUE(profile) << "the committed H100 profile";
  const AttentionTable decode(profile->kernels.decode, true);
  const ModelSpec m = find_model("llama-2-7b", "m");
  const HeadShape shard{m.heads, m.kv_heads, m.head_dim};
  ASSERT_EQ(shard, (HeadShape{32, 32, 128}));
  const AttentionCurve c = decode.curve(shard);
  ASSERT_TRUE(c.derived);
  for (const auto& [batch, context] : {std::pair{64, 1024}, std::pair{16, 4096}}) {
    const double kv_bytes = 2.0 * shard.kv_heads * shard.head_dim * dtype_bytes(m.kv_cache_dtype) * batch * context;
    const double physics = kv_bytes / 3.0e12;
    const double ratio = c.seconds(batch, context) / physics;
    EXPECT_GE(ratio, 0.97) << batch << " x " << context;
    EXPECT_LE(ratio, 1.10) << batch << " x " << context;
  }
}

TEST(KernelTables, ChunksAndBatchesComposeFromTheTables) {
  const Profile p = small_profile();
  const GpuSpec& gpu = find_gpu("h100-sxm", "g");
  const KernelTableCostModel cm(p, shard_model(), gpu, {gpu.nvlink_bytes_per_s, 0}, 2, {});
  const AttentionTable prefill(p.kernels.prefill, false), decode(p.kernels.decode, true);
  const HeadShape s{32, 8, 128};
  BatchShape one;
  one.layers = 1;
  // A lone prompt with no context is the table's own point.
  one.prefills = {{4096, 0}};
  EXPECT_NEAR(cm.iteration(one).attn_prefill, prefill.curve(s).seconds(1, 4096), 1e-12);
  // Four prompts of 256 are priced as a batch of four (table: 10 + 4 * 256^2 / 1e4 = 36.2144 us),
  // not as four single prompts (4 x 16.5536 us).
  one.prefills.assign(4, {256, 0});
  EXPECT_NEAR(cm.iteration(one).attn_prefill, 36.2144e-6, 1e-12);
  // A chunk of 16 after 4080 cached tokens does the work of a 361.33-token prompt
  // (sqrt(4096^2 - 4080^2)) but must read 4096 tokens of context, as a decode does.
  one.prefills = {{16, 4080}};
  EXPECT_NEAR(cm.iteration(one).attn_prefill, decode.curve(s).seconds(1, 4096), 1e-12);
  // A mixed batch is one kernel: the decode part loses its fixed cost (the floor, 10.16 us).
  BatchShape mixed = one;
  mixed.num_decodes = 4;
  mixed.decode_context_sum = 4 * 4096;
  EXPECT_NEAR(cm.iteration(mixed).attn_decode, (10 + 4 * 4096 / 100.0 - 10.16) * 1e-6, 1e-12);
}

TEST(KernelTables, AllReduceIsVllmsChoiceFromTheMeasuredRows) {
  RooflineParams p;
  EXPECT_EQ(RooflineCostModel::allreduce_impl(p, 8 << 20, true), "vllm_graph");
  EXPECT_EQ(RooflineCostModel::allreduce_impl(p, 8 << 20, false), "vllm_eager");
  EXPECT_EQ(RooflineCostModel::allreduce_impl(p, (8 << 20) + 1, true), "nccl");
  p.allreduce = "nccl";
  EXPECT_EQ(RooflineCostModel::allreduce_impl(p, 1024, true), "nccl");
  p.allreduce = "custom";
  EXPECT_EQ(RooflineCostModel::allreduce_impl(p, 1e9, false), "vllm_eager");

  const Profile prof = small_profile();
  const ModelSpec m = shard_model();
  const GpuSpec& gpu = find_gpu("h100-sxm", "g");
  const KernelTableCostModel cm(prof, m, gpu, {gpu.nvlink_bytes_per_s, 0}, 2, {});
  // 64 decode tokens x hidden 8192 x 2 B = 1 MiB: the custom all-reduce under a CUDA graph,
  // twice per layer: 2 layers x 2 x (5 + 1,048,576 / 1e5) us (interpolated: linear rows).
  BatchShape s;
  s.layers = 2;
  s.num_decodes = 64;
  s.decode_context_sum = 64 * 100;
  const double one = Interpolator1D({{1e3, 5.01e-6}, {1e6, 15e-6}, {1e8, 1005e-6}}).at(1048576);
  EXPECT_NEAR(cm.iteration(s).allreduce, 4 * one, 1e-12);
  EXPECT_NEAR(cm.allreduce("vllm_graph", 1e6), 15e-6, 1e-15);
  // 1024 prefill tokens (16 MiB) exceed vLLM's custom buffer: NCCL.
  s.num_decodes = 0;
  s.prefills = {{1024, 0}};
  const double nccl = Interpolator1D({{1e3, 15.005e-6}, {1e6, 20e-6}, {1e8, 515e-6}}).at(1024.0 * 8192 * 2);
  EXPECT_NEAR(cm.iteration(s).allreduce, 4 * nccl, 1e-12);
  // No rows at 4 GPUs: the roofline prices it, and the description says so.
  const KernelTableCostModel cm4(prof, m, gpu, {gpu.nvlink_bytes_per_s, 0}, 4, {});
  EXPECT_NE(cm4.describe().find("all-reduce vllm_graph at 4 GPUs"), std::string::npos) << cm4.describe();
  EXPECT_NE(cm4.describe().find("derived: prefill attention 16/4x128 from 32/8x128"), std::string::npos);
}

TEST(KernelTables, OverheadTermsSeparateGraphedDecodesFromEagerIterations) {
  const RooflineParams p;  // 500 us graphed, 1500 us eager, 8 us a sequence, graphs up to 512
  BatchShape s;
  s.num_decodes = 100;
  EXPECT_NEAR(p.overhead_s(s), (500 + 800) * 1e-6, 1e-12);
  s.num_decodes = 600;  // beyond the largest captured batch: eager
  EXPECT_NEAR(p.overhead_s(s), (1500 + 4800) * 1e-6, 1e-12);
  s.num_decodes = 10;
  s.prefills = {{100, 0}};
  EXPECT_NEAR(p.overhead_s(s), (1500 + 88) * 1e-6, 1e-12);
}

TEST(KernelTables, FrontEndTimeIsAddedToWhatTheClientSees) {
  Json j = test::tiny_cluster_scenario();
  j["deployment"]["frontend_s"] = 0;
  const Json without = test::run_scenario(j);
  j["deployment"]["frontend_s"] = 0.5;
  const Json with = test::run_scenario(j);
  EXPECT_EQ(with["frontend_s"], 0.5);
  for (const char* q : {"p50", "p99", "max"}) {
    EXPECT_NEAR(with["ttft_s"][q].get<double>(), without["ttft_s"][q].get<double>() + 0.5, 1e-6) << q;
    EXPECT_NEAR(with["e2e_s"][q].get<double>(), without["e2e_s"][q].get<double>() + 0.5, 1e-6) << q;
  }
  EXPECT_EQ(with["queue_s"], without["queue_s"]);  // the engine is unchanged
  EXPECT_EQ(test::run_scenario(test::tiny_cluster_scenario())["frontend_s"], 0.02);  // the default
}

// --- the importer ---

// A tiny database in aiconfigurator's layout: latencies in ms, message sizes in elements.
std::filesystem::path fake_database(const std::string& name) {
  const auto dir = test::scratch(name);
  const auto sys = dir / "h100_sxm";
  test::write_file(dir / "h100_sxm.yaml", "gpu:\n  mem_bw: 3350000000000 # peak\n  mem_bw_empirical_scaling_factor: 0.8\n"
                                          "  mem_empirical_constant_latency: 0.000003\n");
  test::write_file(dir / "SOURCE.md", "Snapshot commit abc123 (2026-08-21); last changed in def456 (2026-07-24).\n");
  test::write_file(sys / "gemm/vllm/0.24.0/gemm_perf.csv",
                   "framework,version,device,op_name,kernel_source,gemm_dtype,m,n,k,latency\n"
                   "VLLM,0.24.0,GPU X,gemm,lin,bfloat16,1,1024,1024,0.010\n"
                   "VLLM,0.24.0,GPU X,gemm,lin,bfloat16,1,1024,1024,0.014\n"
                   "VLLM,0.24.0,GPU X,gemm,lin,bfloat16,1,1024,1024,0.011\n"
                   "VLLM,0.24.0,GPU X,gemm,fp8k,fp8,1,1024,1024,0.005\n"
                   "VLLM,0.24.0,GPU X,gemm,lin,bfloat16,64,1024,1024,0.020\n");
  const std::string attn_header =
      "framework,version,device,op_name,kernel_source,batch_size,isl,num_heads,num_key_value_heads,head_dim,"
      "beam_width,attn_dtype,kv_cache_dtype,step,window_size,latency\n";
  test::write_file(sys / "attention/vllm/0.24.0/context_attention_perf.csv",
                   attn_header + "VLLM,0.24.0,GPU X,context_attention,fa3,1,1024,32,8,128,1,bfloat16,bfloat16,0,0,0.1\n"
                                 "VLLM,0.24.0,GPU X,context_attention,fa3,1,1024,32,8,128,1,bfloat16,fp8,0,0,0.05\n"
                                 "VLLM,0.24.0,GPU X,context_attention,fa3,1,1024,32,8,128,1,bfloat16,bfloat16,0,128,0.07\n"
                                 "VLLM,0.24.0,GPU X,context_attention,fa4,1,1024,32,8,128,1,bfloat16,bfloat16,0,0,0.09\n"
                                 "VLLM,0.24.0,GPU X,context_attention,fa3,2,1024,32,8,128,1,bfloat16,bfloat16,0,0,0.2\n");
  test::write_file(sys / "attention/vllm/0.24.0/generation_attention_perf.csv",
                   attn_header + "VLLM,0.24.0,GPU X,generation_attention,fa3,8,1,32,8,128,1,bfloat16,bfloat16,1023,0,0.03\n");
  const std::string moe_header =
      "framework,version,device,op_name,kernel_source,moe_dtype,num_tokens,hidden_size,inter_size,topk,num_experts,"
      "moe_tp_size,moe_ep_size,distribution,latency\n";
  test::write_file(sys / "moe/vllm/0.24.0/moe_perf.csv",
                   moe_header +
                       "VLLM,0.24.0,GPU X,moe,tri,bfloat16,8,4096,14336,2,8,2,1,power_law_1.01,0.5\n"
                       "VLLM,0.24.0,GPU X,moe,tri,bfloat16,8,4096,14336,2,8,2,1,power_law_1.01,0.7\n"
                       "VLLM,0.24.0,GPU X,moe,tri,bfloat16,64,4096,14336,2,8,2,1,power_law_1.01,0.9\n"
                       "VLLM,0.24.0,GPU X,moe,other,bfloat16,8,4096,14336,2,8,2,1,power_law_1.01,0.1\n"
                       "VLLM,0.24.0,GPU X,moe,mx,w4a16_mxfp4,8,4096,14336,2,8,2,1,power_law_1.01,0.2\n"
                       "VLLM,0.24.0,GPU X,moe,mx,w4a8_mxfp4_mxfp8,8,4096,14336,2,8,2,1,power_law_1.01,0.1\n");
  const std::string mla_header =
      "framework,version,device,op_name,kernel_source,model,architecture,mla_dtype,kv_cache_dtype,gemm_type,num_heads,"
      "batch_size,isl,tp_size,step,latency\n";
  const std::string v3 = "deepseek-ai/DeepSeek-V3,DeepseekV3ForCausalLM";
  test::write_file(
      sys / "mla/vllm/0.24.0/mla_context_module_perf.csv",
      mla_header + "VLLM,0.24.0,GPU X,mla_context_module,FA,"s + v3 +
          ",bfloat16,bfloat16,fp8_block,16,1,1024,1,0,0.3\n"
          "VLLM,0.24.0,GPU X,mla_context_module,FA,"s +
          v3 +
          ",bfloat16,bfloat16,fp8_block,16,1,1024,1,0,0.5\n"
          "VLLM,0.24.0,GPU X,mla_context_module,FA,"s +
          v3 +
          ",bfloat16,bfloat16,fp8_block,16,1,1024,1,0,0.4\n"
          "VLLM,0.24.0,GPU X,mla_context_module,FA,"s +
          v3 +
          ",bfloat16,bfloat16,fp8_block,16,1,1024,2,0,0.9\n"
          "VLLM,0.24.0,GPU X,mla_context_module,FA,"s +
          v3 +
          ",fp8,fp8,fp8_block,16,1,1024,1,0,0.2\n"
          "VLLM,0.24.0,GPU X,mla_context_module,FA,"s +
          v3 +
          ",bfloat16,bfloat16,nvfp4,16,1,1024,1,0,0.2\n"
          "VLLM,0.24.0,GPU X,mla_context_module,FA,other/Model,X,bfloat16,bfloat16,fp8_block,16,1,1024,1,0,0.2\n");
  test::write_file(sys / "mla/vllm/0.24.0/mla_generation_module_perf.csv",
                   mla_header + "VLLM,0.24.0,GPU X,mla_generation_module,FLASHMLA,"s + v3 +
                       ",bfloat16,fp8,bfloat16,128,4,1,1,1023,0.25\n");
  test::write_file(sys / "comm/vllm/0.24.0/custom_allreduce_perf.csv",
                   "framework,version,device,op_name,kernel_source,allreduce_dtype,num_gpus,message_size,latency,backend\n"
                   "vLLM,0.24.0,GPU X,all_reduce,g,bfloat16,2,1024,0.004,vllm_graph\n"
                   "vLLM,0.24.0,GPU X,all_reduce,e,bfloat16,2,1024,0.02,vllm_eager\n");
  test::write_file(sys / "comm/nccl/2.29.2/nccl_perf.csv",
                   "framework,version,device,op_name,kernel_source,nccl_dtype,num_gpus,message_size,latency\n"
                   "TRTLLM,2.29.2,GPU X,all_reduce,NCCL,half,2,1024,0.016\n"
                   "TRTLLM,2.29.2,GPU X,all_gather,NCCL,half,2,1024,0.010\n");
  return dir;
}

TEST(AiconfiguratorImport, ReducesTheTablesToKunsimsUnits) {
  const auto db = fake_database("aic-ok");
  AiconfiguratorImport opt;
  opt.dir = db.string();
  opt.system = "h100_sxm";
  const ImportedProfile p = import_aiconfigurator(opt);
  const KernelTables& t = p.tables;
  ASSERT_EQ(t.gemm.size(), 2u);  // the fp8 row is in its own table; the three repeats keep their median
  EXPECT_DOUBLE_EQ(t.gemm[0].us, 11.0);
  EXPECT_EQ(t.optional->at("gemm_fp8.csv"), "m,n,k,us\n1,1024,1024,5\n");
  ASSERT_EQ(t.prefill.size(), 2u);  // fp8 KV, windowed and the less measured fa4 rows are left out
  EXPECT_EQ(t.optional->at("attn_prefill_fp8kv.csv"), "batch,isl,heads,kv_heads,head_dim,us\n1,1024,32,8,128,50\n");
  // MoE: the configuration's most measured kernel (tri, not other), repeats by their median, the
  // dtypes kunsim prices (mxfp4 as w4a16, as vLLM runs it on Hopper).
  EXPECT_EQ(t.optional->at("moe.csv"),
            "dtype,hidden,inter,topk,experts,moe_tp,moe_ep,distribution,tokens,us\n"
            "bf16,4096,14336,2,8,2,1,power_law_1.01,8,600\nbf16,4096,14336,2,8,2,1,power_law_1.01,64,900\n"
            "mxfp4,4096,14336,2,8,2,1,power_law_1.01,8,200\n");
  EXPECT_EQ(t.optional->count("attn_decode_fp8kv.csv"), 0u);
  // MLA: DeepSeek-V3's module at tp_size 1, bf16 attention compute, bf16 or fp8_block GEMMs
  // (not fp8 prefill compute, nvfp4, tp_size 2 or a model whose MLA shape is unknown, which
  // meta counts); repeats by their median; a generation row's length counts the new token.
  EXPECT_EQ(t.optional->at("mla_context.csv"),
            "scope,hidden,q_lora_rank,kv_lora_rank,qk_nope_head_dim,qk_rope_head_dim,v_head_dim,gemm_dtype,kv_dtype,"
            "heads,batch,len,us\nmodule,7168,1536,512,128,64,128,fp8_block,bf16,16,1,1024,400\n");
  EXPECT_EQ(t.optional->at("mla_generation.csv").substr(t.optional->at("mla_generation.csv").find('\n') + 1),
            "module,7168,1536,512,128,64,128,bf16,fp8,128,4,1024,250\n");
  EXPECT_EQ(p.meta["mla_rows_skipped"], 1);
  EXPECT_DOUBLE_EQ(t.prefill[0].us, 100.0);
  ASSERT_EQ(t.decode.size(), 1u);
  EXPECT_EQ(t.decode[0].len, 1024);  // step 1023 cached + the new token
  ASSERT_EQ(t.allreduce.size(), 3u);
  EXPECT_EQ(t.allreduce[0].impl, "nccl");
  EXPECT_DOUBLE_EQ(t.allreduce[0].bytes, 2048);  // 1024 bf16 elements
  EXPECT_EQ(p.meta["kind"], "h100-sxm");
  EXPECT_EQ(p.meta["kernel_source"]["attn_prefill"], "fa3");
  EXPECT_EQ(p.meta["date"], "2026-07-24");
  EXPECT_EQ(p.meta["elementwise"]["bw_factor"], 0.8);

  // Written, byte for byte as the committed expected folder (meta.json's source, snapshot and
  // importer version included), read back as a profile, and priced from.
  const auto out = test::scratch("aic-ok-out") / "prof";
  write_kernel_table_profile(out.string(), p);
  const auto expected = std::filesystem::path(KUNSIM_SOURCE_DIR) / "tests/cost/expected/fake-aiconfigurator-vllm";
  for (const char* file :
       {"meta.json", "gemm.csv", "attn_prefill.csv", "attn_decode.csv", "allreduce.csv", "gemm_fp8.csv",
        "attn_prefill_fp8kv.csv", "moe.csv", "mla_context.csv", "mla_generation.csv"})
    EXPECT_EQ(test::read_file(out / file), test::read_file(expected / file)) << file;
  const Profile back = load_profile(out.string());
  EXPECT_EQ(back.format, 2);
  EXPECT_EQ(back.variant, "production-import");
  EXPECT_EQ(back.kernels.gemm.size(), 2u);
  EXPECT_TRUE(back.covers("any-model", 8));
}

TEST(AiconfiguratorImport, BadRowsExitTwoNamingFileAndLine) {
  const auto db = fake_database("aic-bad");
  const auto gemm = db / "h100_sxm/gemm/vllm/0.24.0/gemm_perf.csv";
  std::string text = test::read_file(gemm);
  test::write_file(gemm, text + "VLLM,0.24.0,GPU X,gemm,lin,bfloat16,128,1024,1024,slow\n");
  std::string log;
  const auto out = test::scratch("aic-bad-out") / "prof";
  EXPECT_EQ(test::run_kunsim("import aiconfigurator " + db.string() + " --system h100_sxm --out " + out.string(), &log), 2);
  EXPECT_NE(log.find("gemm_perf.csv:7: latency"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(out));
  test::write_file(gemm, text + "VLLM,0.24.0,GPU X,gemm,lin,bfloat16,128,1024\n");
  EXPECT_EQ(test::run_kunsim("import aiconfigurator " + db.string() + " --system h100_sxm --out " + out.string(), &log), 2);
  EXPECT_NE(log.find("gemm_perf.csv:7: expected 10 fields"), std::string::npos) << log;
  test::write_file(gemm, text);
  EXPECT_EQ(test::run_kunsim("import aiconfigurator " + db.string() + " --system h999 --out " + out.string(), &log), 2);
  EXPECT_NE(log.find("h999"), std::string::npos) << log;
  EXPECT_EQ(test::run_kunsim("import aiconfigurator " + db.string() + " --system h100_sxm --kernel-source fa9 --out " +
                                 out.string(), &log), 2);
  EXPECT_NE(log.find("no bf16 rows with kernel_source \"fa9\""), std::string::npos) << log;
}

TEST(KernelTableFit, ReportsHeldOutErrorAndGatesOnIt) {
  // Smooth tables interpolate well; a curve too coarse for its shape fails --max-mape.
  const auto dir = test::scratch("kt-fit") / "prof";
  ImportedProfile p;
  p.tables = small_tables();
  for (double m = 1; m <= 8192; m *= 2)
    for (double n : {1024.0, 4096.0}) p.tables.gemm.push_back({m + 1, n, 1024, 2 + (m + 1) * n * 1024 / 1e9});
  p.tables.sort();
  p.meta = {{"format", 2}, {"kind", "h100-sxm"}, {"gpu", "test GPU"}};
  write_kernel_table_profile(dir.string(), p);
  const Json r = fit_report(load_profile(dir.string()));
  EXPECT_LT(r["ops"]["gemm"]["heldout_mape"].get<double>(), 0.05);
  EXPECT_GT(r["ops"]["gemm"]["heldout"].get<int>(), 0);
  EXPECT_TRUE(r.contains("roofline"));
  EXPECT_NE(r["note"].get<std::string>().find("no whole-iteration data"), std::string::npos);
  std::string log;
  EXPECT_EQ(test::run_kunsim("fit " + dir.string() + " --out " + (dir.parent_path() / "r").string() + " --max-mape 100", &log), 0)
      << log;
  EXPECT_EQ(test::run_kunsim("fit " + dir.string() + " --out " + (dir.parent_path() / "r").string() + " --max-mape 0.001", &log), 1)
      << log;
  EXPECT_NE(log.find("exceeds --max-mape"), std::string::npos) << log;
}

}  // namespace
}  // namespace kunsim
