// RooflineParams: the `cost.*` keys the roofline cost model reads (roofline_cost_model.cpp
// parses them where it registers). The terms outside the kernels (host overheads, the
// all-reduce choice) price every cost model, measured ones too.
#pragma once
#include <string>

#include "sim/cost/batch_shape.hpp"

namespace kunsim {

// The roofline's parameters, and the terms outside the kernels that every cost model charges.
// Defaults and where they come from (docs/fidelity.md has the fits):
// - gemm_efficiency, memory_efficiency: H100 measurements (8192^3 GEMM ~798 of 989 TFLOP/s,
//   device copy ~3.0 of 3.35 TB/s).
// - *_latency_us, attention_efficiency/attention_half_len, the all-reduce terms: fitted to
//   NVIDIA's measured vLLM kernel tables for H100 SXM (tools/fit-roofline.sh).
// - elementwise_*: aiconfigurator's own memory correction (its h100_sxm.yaml: bandwidth x 0.8
//   plus 3 us a kernel); there are no element-wise measurements in the public tables.
// - graph_overhead_us: kunsim's own comparison with real vLLM runs using CUDA graphs (~0.5 ms an
//   iteration); eager_overhead_us and cpu_per_seq_us: kunsim's earlier eager-mode defaults
//   (1.5 ms and 8 us a sequence), kept for iterations that cannot replay a graph.
// - cuda_graph_max_batch: vLLM's largest captured batch by default (512 tokens).
// - custom_allreduce_max_bytes: vLLM's custom all-reduce buffer (8 MiB); larger messages use NCCL.
struct RooflineParams {
  double gemm_efficiency = 0.80;          // of bf16 peak
  double gemm_latency_us = 2.8;           // per GEMM (fitted)
  double attention_efficiency = 0.66;     // prefill attention at long prompts, of bf16 peak (fitted)
  double attention_half_len = 1120;       // prompt length at which prefill reaches half of that
  double attention_latency_us = 12.4;     // per attention call (fitted: the measured kernels' floor)
  double memory_efficiency = 0.85;        // of HBM peak, for GEMMs
  double attention_memory_efficiency = 0.88;  // of HBM peak, for attention reading the KV cache (fitted)
  double elementwise_bw_factor = 0.8;     // element-wise kernels: HBM x this ...
  double elementwise_latency_us = 3.0;    // ... plus this per kernel
  double nccl_latency_us = 1.4;          // NCCL all-reduce, ring over NVLink (fitted)
  double nccl_efficiency = 0.62;          // of the NVLink bandwidth, bus bytes, for large messages (fitted)
  double nccl_half_bytes = 1.72e6;       // message size at which NCCL reaches half that (fitted):
                                          // its protocols trade latency for bandwidth as sizes grow
  double custom_latency_us = 4.6;         // vLLM custom all-reduce under CUDA graphs (fitted)
  double custom_eager_latency_us = 21.1;  // the same run eagerly (fitted)
  double custom_efficiency = 0.69;        // of the NVLink bandwidth, bus bytes (fitted)
  std::string allreduce = "auto";         // "auto" (custom up to its buffer, then NCCL), "custom", "nccl"
  double custom_allreduce_max_bytes = 8.0 * 1024 * 1024;
  double graph_overhead_us = 500.0;       // per iteration replayed from a CUDA graph
  double eager_overhead_us = 1500.0;      // per iteration run eagerly (prefill, mixed, big batches)
  double cpu_per_seq_us = 8.0;            // per sequence in the batch
  int cuda_graph_max_batch = 512;         // decode-only batches up to this replay a graph
  // How an MoE router spreads tokens over experts, as the measured tables time it: balanced,
  // power_law_1.01 (mild skew: the default, measured on every GPU, a100 included, which has no
  // balanced rows) or power_law_1.2. The roofline assumes balanced routing whatever this says.
  std::string moe_routing = "power_law_1.01";

  // Seconds of host-side time for one iteration (scheduling, sampling, Python).
  double overhead_s(const BatchShape& s) const;
  // Whether this many tokens run under a CUDA graph: a decode-only batch within the capture size.
  // Uniform batches of drafts to verify are graphed too, by their tokens (vLLM captures those).
  bool graphed(const BatchShape& s) const {
    return s.prefills.empty() && std::int64_t{s.num_decodes} * s.decode_queries <= cuda_graph_max_batch;
  }
};

}  // namespace kunsim
