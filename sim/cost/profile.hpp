// Profile: measured costs of one GPU kind, as data (calibrate/profiles/<gpu>/<name>/). Two
// formats, told apart by meta.json's "format" (absent: 1), and every reader takes both:
//   2: kernel tables over their natural axes, not per model (kernel_tables.hpp): what
//      `kunsim import aiconfigurator` derives from published production-kernel measurements.
//   1: what kunsim-calibrate measured for named models and TP degrees, described below.
// meta.json's "variant" says whose kernels were measured: "production-import" (format 2) or
// "kunsim-kernels" (format 1, the default); cost.model=auto prefers the first.
// Format 1:
//   meta.json        GPU name, driver, CUDA version, SM clock, date, and the tool's version
//   ops.csv          op,model,tp,p1,p2,median_s,repeats,min_s,p90_s (min and p90 may be empty;
//                    earlier files lack both columns and are read too): one row per measured
//                    shape, priced by its median. Ops and
//                    their parameters (per GPU, per layer where it applies):
//                      gemm_qkv, gemm_o, gemm_gate_up, gemm_down, silu_mul, rmsnorm  p1 = tokens
//                      attn_prefill  p1 = chunk tokens, p2 = context before the chunk
//                      attn_decode   p1 = batch, p2 = sum of the batch's context lengths
//                      optional: rope_cache p1 = tokens; gemm_lm_head p1 = sequences sampled
//                      allreduce, send, memcpy_h2d, memcpy_d2h, memcpy_d2d, memcpy_p2p  p1 = bytes
//                      (model empty; for allreduce the tp column is the number of ranks, 0 if
//                      unknown)
//   iterations.csv   model,tp,prefill_tokens,prefill_context,decodes,decode_context_sum,measured_s:
//                    whole model iterations (all layers) for the iteration check
//   attention_mixed.csv  the same columns: one layer's attention for a mixed batch (a prefill
//                    chunk and decodes, both launches), for the check that the cost model may
//                    add the two (optional)
//   *.nccl.txt       nccl-tests output (all_reduce_perf, sendrecv_perf), read as allreduce/send rows
//                    (ranks counted from its "#  Rank" lines)
// Bad rows are errors naming file:line.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <tuple>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/json_fields.hpp"
#include "sim/cost/kernel_tables.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {

class KernelTableIndex;

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
  std::string dir;       // where it was read from (messages)
  std::string name;      // its folder's name: what cost.profile names
  Json meta;
  int format = 1;
  std::string variant;   // "production-import", "kunsim-kernels", ...
  KernelTables kernels;  // format 2
  std::shared_ptr<const KernelTableIndex> kernel_index;  // format 2, built when read
  // (op, model, tp) -> points; transfers are stored with model "" and tp 0 (all-reduce: ranks).
  std::map<std::tuple<std::string, std::string, int>, std::vector<ProfilePoint>> ops;
  std::vector<IterationPoint> iterations;
  std::vector<IterationPoint> mixed_attention;

  // (op, model, tp), else the transfer rows (op, "", tp), else (op, "", 0).
  const std::vector<ProfilePoint>* find(const std::string& op, const std::string& model, int tp) const;
  // Format 1: has every compute op for (model, tp). Format 2 prices any model: always true.
  bool covers(const std::string& model, int tp) const;
  // One line for messages: the GPU and whose kernels, e.g. "vLLM 0.24.0 kernels on NVIDIA H100".
  std::string describe() const;
  // The simulator's GPU kind it was measured on (meta.json "kind"; h100-sxm when unsaid).
  std::string kind() const {
    return meta.is_object() ? meta.value("kind", std::string("h100-sxm")) : std::string("h100-sxm");
  }
};

// Reads a profile through `read` (file name -> contents, "" when absent), e.g. the shipped
// copies embedded in the binary; `dir` names the files in messages. nccl-tests logs are read
// only from folders (load_profile).
Profile read_profile(const std::string& dir, const std::function<std::string(const std::string&)>& read);

Profile load_profile(const std::string& dir);
// The model `name` of a profile's rows: the catalogue's, else the spec kunsim-calibrate kept for
// it in meta.json (a model calibrated with --model-spec). `where` names it in errors.
ModelSpec profile_model(const Profile& p, const std::string& name, const std::string& where);
// nccl-tests' all_reduce_perf / sendrecv_perf text: rows of size, count, type, ..., time (us).
// op is "allreduce" or "send"; the points use the out-of-place time.
struct NcclTestsLog {
  std::string op;
  int ranks = 0;  // "#  Rank" lines in the header; 0 if none
  std::vector<ProfilePoint> points;
};
NcclTestsLog parse_nccl_tests(const std::string& path);

inline const char* const kComputeOps[] = {"gemm_qkv", "gemm_o",       "gemm_gate_up", "gemm_down",
                                          "silu_mul", "rmsnorm",      "attn_prefill", "attn_decode"};
// Measured by kunsim-calibrate, used when present (the roofline stands in otherwise).
inline const char* const kOptionalOps[] = {"rope_cache", "gemm_lm_head"};

}  // namespace kunsim
