// Profile: what calibrate/ measured on one GPU kind, as data (calibrate/profiles/<gpu>/):
//   meta.json        GPU name, driver, CUDA version, SM clock, date, and the tool's version
//   ops.csv          op,model,tp,p1,p2,median_s,repeats: one row per measured shape. Ops and
//                    their parameters (per GPU, per layer where it applies):
//                      gemm_qkv, gemm_o, gemm_gate_up, gemm_down, silu_mul, rmsnorm  p1 = tokens
//                      attn_prefill  p1 = chunk tokens, p2 = context before the chunk
//                      attn_decode   p1 = batch, p2 = sum of the batch's context lengths
//                      allreduce, send, memcpy_h2d, memcpy_d2h, memcpy_d2d, memcpy_p2p  p1 = bytes
//   iterations.csv   model,tp,prefill_tokens,prefill_context,decodes,decode_context_sum,measured_s:
//                    whole model iterations (all layers) for the iteration check
//   *.nccl.txt       nccl-tests output (all_reduce_perf, sendrecv_perf), read as allreduce/send rows
// Bad rows are errors naming file:line.
#pragma once
#include <cstdint>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "sim/core/json_fields.hpp"

namespace kunsim {

struct ProfilePoint {
  double p1 = 0, p2 = 0, seconds = 0;
};

struct IterationPoint {
  std::string model;
  int tp = 1;
  std::int64_t prefill_tokens = 0, prefill_context = 0, decodes = 0, decode_context_sum = 0;
  double seconds = 0;
};

struct Profile {
  std::string dir;
  Json meta;
  // (op, model, tp) -> points; transfers are stored with model "" and tp 0.
  std::map<std::tuple<std::string, std::string, int>, std::vector<ProfilePoint>> ops;
  std::vector<IterationPoint> iterations;

  const std::vector<ProfilePoint>* find(const std::string& op, const std::string& model, int tp) const;
  bool covers(const std::string& model, int tp) const;  // has every compute op for it
};

Profile load_profile(const std::string& dir);
// nccl-tests' all_reduce_perf / sendrecv_perf text: rows of size, count, type, ..., time (us).
// Returns (op, points) with op "allreduce" or "send", using the out-of-place time.
std::pair<std::string, std::vector<ProfilePoint>> parse_nccl_tests(const std::string& path);

inline const char* const kComputeOps[] = {"gemm_qkv", "gemm_o",       "gemm_gate_up", "gemm_down",
                                          "silu_mul", "rmsnorm",      "attn_prefill", "attn_decode"};

}  // namespace kunsim
