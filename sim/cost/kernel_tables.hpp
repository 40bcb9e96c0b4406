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
// Heads are per GPU (a TP shard's). Rows are sorted by their key, so a regenerated profile is
// byte-identical to the committed one.
#pragma once
#include <functional>
#include <string>
#include <vector>

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

struct KernelTables {
  std::vector<GemmRow> gemm;
  std::vector<AttentionRow> prefill, decode;
  std::vector<AllreduceRow> allreduce;

  bool empty() const { return gemm.empty() && prefill.empty() && decode.empty() && allreduce.empty(); }
  void sort();  // by key: the order the files are written in
};

inline const char* const kKernelTableFiles[] = {"gemm.csv", "attn_prefill.csv", "attn_decode.csv", "allreduce.csv"};
inline const char* const kAllreduceImpls[] = {"vllm_graph", "vllm_eager", "nccl"};

// Reads the four files through `read` (file name -> contents, "" when absent); `dir` names them
// in errors (file:line). gemm.csv and both attention files are required.
KernelTables read_kernel_tables(const std::string& dir, const std::function<std::string(const std::string&)>& read);
// The text of one file, as read_kernel_tables reads it back.
std::string kernel_table_text(const KernelTables& t, const std::string& file);

}  // namespace kunsim
