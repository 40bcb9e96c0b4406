#include "sim/cost/kernel_tables.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>
#include <tuple>

#include "sim/cost/csv_rows.hpp"

namespace kunsim {
namespace {

constexpr const char* kGemmHeader = "m,n,k,us";
constexpr const char* kPrefillHeader = "batch,isl,heads,kv_heads,head_dim,us";
constexpr const char* kDecodeHeader = "batch,context,heads,kv_heads,head_dim,us";
constexpr const char* kAllreduceHeader = "impl,gpus,bytes,us";
constexpr const char* kMoeHeader = "dtype,hidden,inter,topk,experts,moe_tp,moe_ep,distribution,tokens,us";
constexpr const char* kMlaHeader =
    "scope,hidden,q_lora_rank,kv_lora_rank,qk_nope_head_dim,qk_rope_head_dim,v_head_dim,gemm_dtype,kv_dtype,heads,"
    "batch,len,us";

int whole(const std::string& s, const std::string& where, const char* what) {
  const double v = csv_number(s, where, what);
  if (v < 1 || v != static_cast<double>(static_cast<long long>(v)) || v > 1e9)
    throw InputError(where + ": " + what + ": expected a whole number >= 1, got \"" + s + "\"");
  return static_cast<int>(v);
}

double positive(const std::string& s, const std::string& where, const char* what) {
  const double v = csv_number(s, where, what);
  if (v <= 0) throw InputError(where + ": " + what + ": expected a number > 0, got \"" + s + "\"");
  return v;
}

std::vector<AttentionRow> read_attention(const std::string& text, const std::string& name, const char* header) {
  std::vector<AttentionRow> rows;
  std::istringstream in(text);
  read_csv(in, name, header, [&](const std::vector<std::string>& f, const std::string& w) {
    AttentionRow r;
    r.batch = whole(f[0], w, "batch");
    r.len = whole(f[1], w, header == kPrefillHeader ? "isl" : "context");
    r.shape = {whole(f[2], w, "heads"), whole(f[3], w, "kv_heads"), whole(f[4], w, "head_dim")};
    if (r.shape.heads % r.shape.kv_heads != 0)
      throw InputError(w + ": heads (" + f[2] + ") must be a multiple of kv_heads (" + f[3] + ")");
    r.us = positive(f[5], w, "us");
    rows.push_back(r);
  });
  return rows;
}

// The shortest text that reads back to exactly the same double, so a profile written out and
// read again prices every run exactly as the tables it was written from (a committed profile and
// a start-up import of the same tables give byte-identical runs).
std::string num(double v) {
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

}  // namespace

std::string MoeShape::text() const {
  return std::to_string(experts) + "x" + std::to_string(inter) + " top-" + std::to_string(topk) + " h" +
         std::to_string(hidden) + " " + dtype_name(dtype) + " tp" + std::to_string(moe_tp) + " ep" +
         std::to_string(moe_ep) + " " + distribution;
}

std::string MlaShape::text() const {
  std::string s = std::string(module ? "module" : "kernel") + " h" + std::to_string(hidden) + " q" +
                  std::to_string(q_lora_rank) + " kv" + std::to_string(kv_lora_rank) + "+" +
                  std::to_string(qk_rope_head_dim) + " ";
  if (module) s += std::string(dtype_name(gemm)) + " GEMMs, ";
  return s + dtype_name(kv) + " KV, " + std::to_string(heads) + " heads";
}

std::vector<GemmRow> parse_gemm_rows(const std::string& text, const std::string& name) {
  std::vector<GemmRow> rows;
  std::istringstream in(text);
  read_csv(in, name, kGemmHeader, [&](const std::vector<std::string>& f, const std::string& w) {
    rows.push_back({positive(f[0], w, "m"), positive(f[1], w, "n"), positive(f[2], w, "k"), positive(f[3], w, "us")});
  });
  return rows;
}

std::vector<AttentionRow> parse_attention_rows(const std::string& text, const std::string& name, bool decode) {
  return read_attention(text, name, decode ? kDecodeHeader : kPrefillHeader);
}

std::vector<MoeRow> parse_moe_rows(const std::string& text, const std::string& name) {
  static const std::vector<std::string> kDtypes = {"bf16", "fp8", "fp8_block", "mxfp4"};
  static const std::vector<std::string> kRoutings = {"balanced", "power_law_1.01", "power_law_1.2"};
  std::vector<MoeRow> rows;
  std::istringstream in(text);
  read_csv(in, name, kMoeHeader, [&](const std::vector<std::string>& f, const std::string& w) {
    if (std::find(kDtypes.begin(), kDtypes.end(), f[0]) == kDtypes.end())
      throw InputError(w + ": dtype: expected bf16, fp8, fp8_block or mxfp4, got \"" + f[0] + "\"");
    if (std::find(kRoutings.begin(), kRoutings.end(), f[7]) == kRoutings.end())
      throw InputError(w + ": distribution: expected balanced, power_law_1.01 or power_law_1.2, got \"" + f[7] + "\"");
    MoeRow r;
    r.shape = MoeShape{.dtype = dtype_from_name(f[0]),
                       .hidden = whole(f[1], w, "hidden"),
                       .inter = whole(f[2], w, "inter"),
                       .topk = whole(f[3], w, "topk"),
                       .experts = whole(f[4], w, "experts"),
                       .moe_tp = whole(f[5], w, "moe_tp"),
                       .moe_ep = whole(f[6], w, "moe_ep"),
                       .distribution = f[7]};
    if (r.shape.topk > r.shape.experts) throw InputError(w + ": topk exceeds experts");
    if (r.shape.moe_tp > 1 && r.shape.moe_ep > 1)
      throw InputError(w + ": moe_tp and moe_ep are both above 1 (vLLM runs one or the other)");
    r.tokens = whole(f[8], w, "tokens");
    r.us = positive(f[9], w, "us");
    rows.push_back(std::move(r));
  });
  return rows;
}

std::vector<MlaRow> parse_mla_rows(const std::string& text, const std::string& name) {
  std::vector<MlaRow> rows;
  std::istringstream in(text);
  read_csv(in, name, kMlaHeader, [&](const std::vector<std::string>& f, const std::string& w) {
    if (f[0] != "module" && f[0] != "kernel")
      throw InputError(w + ": scope: expected module or kernel, got \"" + f[0] + "\"");
    MlaRow r;
    MlaShape& s = r.shape;
    s.module = f[0] == "module";
    // A kernel row's key is the latent alone: hidden and q_lora_rank are 0 there.
    s.hidden = f[1] == "0" && !s.module ? 0 : whole(f[1], w, "hidden");
    s.q_lora_rank = f[2] == "0" ? 0 : whole(f[2], w, "q_lora_rank");
    s.kv_lora_rank = whole(f[3], w, "kv_lora_rank");
    s.qk_nope_head_dim = whole(f[4], w, "qk_nope_head_dim");
    s.qk_rope_head_dim = whole(f[5], w, "qk_rope_head_dim");
    s.v_head_dim = whole(f[6], w, "v_head_dim");
    if (s.module && f[7] != "bf16" && f[7] != "fp8_block")
      throw InputError(w + ": gemm_dtype: expected bf16 or fp8_block, got \"" + f[7] + "\"");
    if (!s.module && f[7] != "none") throw InputError(w + ": gemm_dtype: a kernel row has none, got \"" + f[7] + "\"");
    s.gemm = s.module ? dtype_from_name(f[7]) : Dtype::bf16;
    if (f[8] != "bf16" && f[8] != "fp8") throw InputError(w + ": kv_dtype: expected bf16 or fp8, got \"" + f[8] + "\"");
    s.kv = dtype_from_name(f[8]);
    s.heads = whole(f[9], w, "heads");
    r.batch = whole(f[10], w, "batch");
    r.len = whole(f[11], w, "len");
    r.us = positive(f[12], w, "us");
    rows.push_back(r);
  });
  return rows;
}

std::string mla_rows_text(std::vector<MlaRow> rows) {
  std::sort(rows.begin(), rows.end(), [](const MlaRow& a, const MlaRow& b) {
    return std::tie(a.shape, a.batch, a.len) < std::tie(b.shape, b.batch, b.len);
  });
  std::string out = std::string(kMlaHeader) + "\n";
  for (const auto& r : rows) {
    const MlaShape& s = r.shape;
    out += std::string(s.module ? "module" : "kernel") + "," + std::to_string(s.hidden) + "," +
           std::to_string(s.q_lora_rank) + "," + std::to_string(s.kv_lora_rank) + "," +
           std::to_string(s.qk_nope_head_dim) + "," + std::to_string(s.qk_rope_head_dim) + "," +
           std::to_string(s.v_head_dim) + "," + (s.module ? dtype_name(s.gemm) : "none") + "," + dtype_name(s.kv) +
           "," + std::to_string(s.heads) + "," + std::to_string(r.batch) + "," + std::to_string(r.len) + "," +
           num(r.us) + "\n";
  }
  return out;
}

std::string gemm_rows_text(const std::vector<GemmRow>& rows) {
  std::string out = std::string(kGemmHeader) + "\n";
  for (const auto& r : rows) out += num(r.m) + "," + num(r.n) + "," + num(r.k) + "," + num(r.us) + "\n";
  return out;
}

std::string attention_rows_text(const std::vector<AttentionRow>& rows, bool decode) {
  std::string out = std::string(decode ? kDecodeHeader : kPrefillHeader) + "\n";
  for (const auto& r : rows)
    out += std::to_string(r.batch) + "," + std::to_string(r.len) + "," + std::to_string(r.shape.heads) + "," +
           std::to_string(r.shape.kv_heads) + "," + std::to_string(r.shape.head_dim) + "," + num(r.us) + "\n";
  return out;
}

std::string moe_rows_text(std::vector<MoeRow> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const MoeRow& a, const MoeRow& b) { return std::tie(a.shape, a.tokens) < std::tie(b.shape, b.tokens); });
  std::string out = std::string(kMoeHeader) + "\n";
  for (const auto& r : rows) {
    const MoeShape& s = r.shape;
    out += std::string(dtype_name(s.dtype)) + "," + std::to_string(s.hidden) + "," + std::to_string(s.inter) + "," +
           std::to_string(s.topk) + "," + std::to_string(s.experts) + "," + std::to_string(s.moe_tp) + "," +
           std::to_string(s.moe_ep) + "," + s.distribution + "," + std::to_string(r.tokens) + "," + num(r.us) + "\n";
  }
  return out;
}

void KernelTables::sort() {
  std::sort(gemm.begin(), gemm.end(), [](const GemmRow& a, const GemmRow& b) {
    return std::tie(a.n, a.k, a.m) < std::tie(b.n, b.k, b.m);
  });
  auto by_key = [](const AttentionRow& a, const AttentionRow& b) {
    return std::tie(a.shape, a.batch, a.len) < std::tie(b.shape, b.batch, b.len);
  };
  std::sort(prefill.begin(), prefill.end(), by_key);
  std::sort(decode.begin(), decode.end(), by_key);
  std::sort(allreduce.begin(), allreduce.end(), [](const AllreduceRow& a, const AllreduceRow& b) {
    return std::tie(a.impl, a.gpus, a.bytes) < std::tie(b.impl, b.gpus, b.bytes);
  });
}

KernelTables read_kernel_tables(const std::string& dir, const std::function<std::string(const std::string&)>& read) {
  KernelTables t;
  t.dir = dir;
  auto required = [&](const char* file) {
    std::string text = read(file);
    if (text.empty()) throw InputError(dir + "/" + file + ": missing (a kernel-table profile needs it)");
    return text;
  };
  {
    std::istringstream in(required("gemm.csv"));
    read_csv(in, dir + "/gemm.csv", kGemmHeader, [&](const std::vector<std::string>& f, const std::string& w) {
      t.gemm.push_back({positive(f[0], w, "m"), positive(f[1], w, "n"), positive(f[2], w, "k"), positive(f[3], w, "us")});
    });
  }
  t.prefill = read_attention(required("attn_prefill.csv"), dir + "/attn_prefill.csv", kPrefillHeader);
  t.decode = read_attention(required("attn_decode.csv"), dir + "/attn_decode.csv", kDecodeHeader);
  std::istringstream ar(read("allreduce.csv"));
  read_csv(ar, dir + "/allreduce.csv", kAllreduceHeader, [&](const std::vector<std::string>& f, const std::string& w) {
    if (std::find(std::begin(kAllreduceImpls), std::end(kAllreduceImpls), f[0]) == std::end(kAllreduceImpls))
      throw InputError(w + ": impl: expected vllm_graph, vllm_eager or nccl, got \"" + f[0] + "\"");
    t.allreduce.push_back({f[0], whole(f[1], w, "gpus"), positive(f[2], w, "bytes"), positive(f[3], w, "us")});
  });
  auto optional = std::make_shared<std::map<std::string, std::string>>();
  for (const char* file : kOptionalKernelTableFiles)
    if (std::string text = read(file); !text.empty()) (*optional)[file] = std::move(text);
  t.optional = std::move(optional);
  return t;
}

std::string kernel_table_text(const KernelTables& t, const std::string& file) {
  std::string out;
  auto line = [&](std::initializer_list<std::string> cells) {
    bool first = true;
    for (const auto& c : cells) {
      if (!first) out += ',';
      out += c;
      first = false;
    }
    out += '\n';
  };
  auto attention = [&](const std::vector<AttentionRow>& rows, const char* header) {
    out = std::string(header) + "\n";
    for (const auto& r : rows)
      line({std::to_string(r.batch), std::to_string(r.len), std::to_string(r.shape.heads),
            std::to_string(r.shape.kv_heads), std::to_string(r.shape.head_dim), num(r.us)});
  };
  if (file == "gemm.csv") {
    out = std::string(kGemmHeader) + "\n";
    for (const auto& r : t.gemm) line({num(r.m), num(r.n), num(r.k), num(r.us)});
  } else if (file == "attn_prefill.csv") {
    attention(t.prefill, kPrefillHeader);
  } else if (file == "attn_decode.csv") {
    attention(t.decode, kDecodeHeader);
  } else if (file == "allreduce.csv") {
    out = std::string(kAllreduceHeader) + "\n";
    for (const auto& r : t.allreduce) line({r.impl, std::to_string(r.gpus), num(r.bytes), num(r.us)});
  } else if (const auto it = t.optional->find(file); it != t.optional->end()) {
    out = it->second;
  }
  return out;
}

}  // namespace kunsim
