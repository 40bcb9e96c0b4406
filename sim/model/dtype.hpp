// Dtype: the number formats kunsim serves a model in, as vLLM names them and as NVIDIA's measured
// tables label their rows. A model's weights (`model.weight_dtype`, `deployment.weight_dtype`)
// and its KV cache (`deployment.kv_cache_dtype`) each have one; activations, all-reduces and
// the hand-offs between pipeline stages stay bf16 whatever the weights are (fp8 GEMMs quantise
// their input on the fly and write bf16).
//   bf16       2 bytes an element
//   fp8        1 byte, one scale per tensor (vLLM's `--quantization fp8`, e4m3)
//   fp8_block  1 byte, one scale per 128 x 128 block (DeepSeek-style checkpoints); the scales
//              add 4 / 16384 of a byte a weight, which kunsim leaves out of memory plans
//   mxfp4      4 bits, one e8m0 scale per 32 weights: 17/32 of a byte a weight (gpt-oss's
//              experts, `model.moe.expert_dtype`; computed in bf16, vLLM's w4a16). An expert
//              dtype only: weight_bytes() prices it; dtype_bytes() is for whole-byte formats
#pragma once
#include <cstdint>
#include <string>

namespace kunsim {

enum class Dtype : std::uint8_t { bf16, fp8, fp8_block, mxfp4 };

inline constexpr int kActivationBytes = 2;  // bf16 activations whatever the weights

constexpr int dtype_bytes(Dtype d) { return d == Dtype::bf16 ? 2 : 1; }
// Bytes of `params` weights stored in `d` (mxfp4 rounded up to a whole byte).
constexpr std::int64_t weight_bytes(std::int64_t params, Dtype d) {
  return d == Dtype::mxfp4 ? (params * 17 + 31) / 32 : params * dtype_bytes(d);
}
constexpr double bytes_per_weight(Dtype d) { return d == Dtype::mxfp4 ? 17.0 / 32 : dtype_bytes(d); }
// The scenario's name for it: bf16, fp8, fp8_block.
inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::fp8:
      return "fp8";
    case Dtype::fp8_block:
      return "fp8_block";
    case Dtype::mxfp4:
      return "mxfp4";
    default:
      return "bf16";
  }
}
// The measured tables' label (gemm_dtype, moe_dtype, kv_cache_dtype): bfloat16, fp8, fp8_block,
// w4a16_mxfp4.
inline const char* dtype_table_name(Dtype d) {
  return d == Dtype::bf16 ? "bfloat16" : d == Dtype::mxfp4 ? "w4a16_mxfp4" : dtype_name(d);
}
inline Dtype dtype_from_name(const std::string& s) {
  if (s == "fp8") return Dtype::fp8;
  if (s == "fp8_block") return Dtype::fp8_block;
  if (s == "mxfp4") return Dtype::mxfp4;
  return Dtype::bf16;
}

}  // namespace kunsim
