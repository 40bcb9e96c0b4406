// KernelTables: one GPU kind's measured kernel times over their natural axes (profile format 2),
// not per model: any model is priced from them at run time (KernelTableCostModel). Files, all
// times in microseconds (`us`), one row per measured shape:
//   gemm.csv          m,n,k,us                              bf16 [m x k] x [k x n] (m = tokens)
//   attn_prefill.csv  batch,isl,heads,kv_heads,head_dim,us  causal prefill of `batch` prompts of
//                                                          `isl` tokens each, no cached prefix
//   attn_decode.csv   batch,context,heads,kv_heads,head_dim,us  one new token for each of `batch`
//                                                          requests attending to `context`
//                                                          tokens (the cached ones plus itself)
//   allreduce.csv     impl,gpus,bytes,us                    impl: vllm_graph, vllm_eager (vLLM's
//                                                          custom all-reduce) or nccl
// and, optional (kOptionalKernelTableFiles), the tables of fp8 serving and MoE models:
//   gemm_fp8.csv, gemm_fp8_block.csv   as gemm.csv, weights fp8 (per-tensor scale) or fp8_block
//   attn_prefill_fp8kv.csv, attn_decode_fp8kv.csv   as the attention files, KV cache in fp8
//   moe.csv           dtype,hidden,inter,topk,experts,moe_tp,moe_ep,distribution,tokens,us
//                     vLLM's fused_experts of one MoE layer for `tokens` tokens: the experts'
//                     gate/up and down GEMMs and activation (not the router's GEMM or top-k), as
//                     one GPU runs its share: each expert split moe_tp ways, or moe_ep GPUs each
//                     holding experts / moe_ep whole ones; `distribution` is the routing
//                     (balanced, power_law_1.01, power_law_1.2)
//   mla_context.csv, mla_generation.csv
//                     scope,hidden,q_lora_rank,kv_lora_rank,qk_nope_head_dim,qk_rope_head_dim,
//                     v_head_dim,gemm_dtype,kv_dtype,heads,batch,len,us
//                     multi-head latent attention of one layer for `batch` prompts of `len`
//                     tokens (context) or one new token each attending to `len` (generation),
//                     `heads` query heads on this GPU: scope `module` is vLLM's whole attention
//                     module (down- and up-projections, attention, o_proj; GEMMs in gemm_dtype),
//                     `kernel` the attention kernel alone (gemm_dtype `none`); the other columns
//                     are the model's MLA shape the rows were measured for (DeepSeek-V3's)
// The optional files are kept as text and parsed by the first cost model that needs them: most
// runs serve a dense bf16 model and never do.
// Heads are per GPU (a TP shard's). Rows are sorted by their key, so a regenerated profile is
// byte-identical to the committed one.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/model/dtype.hpp"

namespace kunsim {

struct GemmRow {
  double m = 0, n = 0, k = 0, us = 0;
};

// The attention heads one GPU runs: a table's configuration axis.
struct HeadShape {
  int heads = 0, kv_heads = 0, head_dim = 0;
  auto operator<=>(const HeadShape&) const = default;
  // "heads/kv_headsxhead_dim", as reports and the `costs` line name a shape: 32/8x128.
  std::string text() const {
    return std::to_string(heads) + "/" + std::to_string(kv_heads) + "x" + std::to_string(head_dim);
  }
};

struct AttentionRow {
  int batch = 0;
  int len = 0;  // prefill: prompt length; decode: tokens attended to
  HeadShape shape;
  double us = 0;
};

struct AllreduceRow {
  std::string impl;
  int gpus = 0;
  double bytes = 0, us = 0;
};

// One measured MoE configuration: a table's key apart from the token count.
struct MoeShape {
  Dtype dtype = Dtype::bf16;
  int hidden = 0, inter = 0, topk = 0, experts = 0, moe_tp = 1, moe_ep = 1;
  std::string distribution;
  auto operator<=>(const MoeShape&) const = default;
  // "8x14336 top-2 h4096 bf16 tp2 ep1 power_law_1.01", as descriptions name it.
  std::string text() const;
};

struct MoeRow {
  MoeShape shape;
  int tokens = 0;
  double us = 0;
};

// One measured MLA configuration: a table's key apart from batch and length.
struct MlaShape {
  bool module = true;  // the whole attention module; false: the attention kernel alone
  int hidden = 0, q_lora_rank = 0, kv_lora_rank = 0, qk_nope_head_dim = 0, qk_rope_head_dim = 0, v_head_dim = 0;
  Dtype gemm = Dtype::bf16;  // the module's projections (a kernel row's: bf16, unused)
  Dtype kv = Dtype::bf16;
  int heads = 0;  // query heads on this GPU
  auto operator<=>(const MlaShape&) const = default;
  // "module h7168 q1536 kv512+64 fp8_block GEMMs, bf16 KV, 16 heads", as descriptions name it.
  std::string text() const;
};

struct MlaRow {
  MlaShape shape;
  int batch = 0, len = 0;
  double us = 0;
};

inline const char* const kOptionalKernelTableFiles[] = {
    "gemm_fp8.csv", "gemm_fp8_block.csv", "attn_prefill_fp8kv.csv", "attn_decode_fp8kv.csv",
    "moe.csv",      "mla_context.csv",    "mla_generation.csv"};

struct KernelTables {
  std::vector<GemmRow> gemm;
  std::vector<AttentionRow> prefill, decode;
  std::vector<AllreduceRow> allreduce;
  // The optional files present, by name: their text, parsed on first use (parse_* below).
  std::shared_ptr<const std::map<std::string, std::string>> optional =
      std::make_shared<std::map<std::string, std::string>>();
  std::string dir;  // where they were read from, for file:line in messages

  bool empty() const { return gemm.empty() && prefill.empty() && decode.empty() && allreduce.empty(); }
  void sort();  // by key: the order the files are written in
};

inline const char* const kKernelTableFiles[] = {"gemm.csv", "attn_prefill.csv", "attn_decode.csv", "allreduce.csv"};
inline const char* const kAllreduceImpls[] = {"vllm_graph", "vllm_eager", "nccl"};

// Reads the four files through `read` (file name -> contents, "" when absent); `dir` names them
// in errors (file:line). gemm.csv and both attention files are required.
KernelTables read_kernel_tables(const std::string& dir, const std::function<std::string(const std::string&)>& read);
// The text of one file, as read_kernel_tables reads it back (an optional file: as given, "" when absent).
std::string kernel_table_text(const KernelTables& t, const std::string& file);

// The optional files' rows and text: `name` names the file in errors (file:line).
std::vector<GemmRow> parse_gemm_rows(const std::string& text, const std::string& name);
std::vector<AttentionRow> parse_attention_rows(const std::string& text, const std::string& name, bool decode);
std::vector<MoeRow> parse_moe_rows(const std::string& text, const std::string& name);
std::string gemm_rows_text(const std::vector<GemmRow>& rows);
std::string attention_rows_text(const std::vector<AttentionRow>& rows, bool decode);
std::string moe_rows_text(std::vector<MoeRow> rows);  // sorted by key
std::vector<MlaRow> parse_mla_rows(const std::string& text, const std::string& name);
std::string mla_rows_text(std::vector<MlaRow> rows);  // sorted by key

}  // namespace kunsim
