#include "sim/cost/aiconfigurator_import.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/output_folder.hpp"
#include "sim/cost/csv_rows.hpp"
#include "sim/cost/kernel_table_interp.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

// A CSV whose columns are found by name (the tables' column sets differ by system and version).
class NamedCsv {
 public:
  explicit NamedCsv(const fs::path& path) : path_(path.string()), in_(open_input_file(path_, "measured table")) {
    std::string header;
    if (!std::getline(in_, header)) throw InputError(path_ + ":1: empty file, expected a header");
    if (!header.empty() && header.back() == '\r') header.pop_back();
    cols_ = split_fields(header);
    line_ = 1;
  }
  std::size_t col(const std::string& name) const {
    const auto it = std::find(cols_.begin(), cols_.end(), name);
    if (it == cols_.end()) throw InputError(path_ + ":1: no \"" + name + "\" column");
    return static_cast<std::size_t>(it - cols_.begin());
  }
  bool has(const std::string& name) const { return std::find(cols_.begin(), cols_.end(), name) != cols_.end(); }
  // The next data row (false at the end); `where` is its file:line.
  bool next(std::vector<std::string>& f, std::string& where) {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      f = split_fields(line);
      where = path_ + ":" + std::to_string(line_);
      if (f.size() != cols_.size())
        throw InputError(where + ": expected " + std::to_string(cols_.size()) + " fields, got " + std::to_string(f.size()));
      return true;
    }
    return false;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  std::vector<std::string> cols_;
  std::size_t line_ = 0;
};

int whole(const std::string& s, const std::string& where, const char* what) {
  const double v = csv_number(s, where, what);
  if (v != static_cast<double>(static_cast<long long>(v)) || v > 1e12)
    throw InputError(where + ": " + what + ": expected a whole number, got \"" + s + "\"");
  return static_cast<int>(v);
}

double latency_us(const std::string& s, const std::string& where) {
  const double ms = csv_number(s, where, "latency");
  if (ms <= 0) throw InputError(where + ": latency: expected a time > 0 ms, got \"" + s + "\"");
  return ms * 1e3;
}

// Median of each key's values, in key order.
template <class Key>
std::map<Key, double> medians(std::map<Key, std::vector<double>>& by_key) {
  std::map<Key, double> out;
  for (auto& [k, v] : by_key) {
    std::sort(v.begin(), v.end());
    out[k] = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
  return out;
}

fs::path version_dir(const AiconfiguratorImport& opt, const std::string& table, const std::string& framework,
                     const std::string& version) {
  const fs::path base = fs::path(opt.dir) / opt.system / table / framework;
  if (!fs::is_directory(base)) throw InputError(base.string() + ": not found (is --system right?)");
  if (!version.empty()) {
    if (!fs::is_directory(base / version)) throw InputError((base / version).string() + ": no such version");
    return base / version;
  }
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(base))
    if (e.is_directory()) found.push_back(e.path().filename().string());
  std::sort(found.begin(), found.end());
  if (found.size() != 1) {
    std::string list;
    for (const auto& v : found) list += (list.empty() ? "" : ", ") + v;
    throw InputError(base.string() + ": " + std::to_string(found.size()) + " versions (" + list + "): name one with --version");
  }
  return base / found.front();
}

// The kernel source of a table: the given one, else the most measured among the kept rows.
std::string pick_source(const std::map<std::string, std::size_t>& counts, const std::string& wanted, const std::string& file) {
  if (!wanted.empty()) {
    if (!counts.count(wanted)) {
      std::string list;
      for (const auto& [s, n] : counts) list += (list.empty() ? "" : ", ") + s;
      throw InputError(file + ": no bf16 rows with kernel_source \"" + wanted + "\" (it has: " + list + ")");
    }
    return wanted;
  }
  std::string best;
  std::size_t most = 0;
  for (const auto& [s, n] : counts)
    if (n > most) best = s, most = n;
  if (best.empty()) throw InputError(file + ": no bf16 rows");
  return best;
}

// The kernel source with the most measured keys among `sources` (kernel source -> its rows by
// key; not empty); the first by name on a tie.
template <class Rows>
typename std::map<std::string, Rows>::iterator most_measured(std::map<std::string, Rows>& sources) {
  auto best = sources.begin();
  for (auto it = sources.begin(); it != sources.end(); ++it)
    if (it->second.size() > best->second.size()) best = it;
  return best;
}

struct ImportedAttention {
  std::vector<AttentionRow> rows;
  std::string source, device;
};

ImportedAttention read_attention(const fs::path& path, bool decode, const std::string& wanted,
                                 const std::string& kv_dtype = "bfloat16") {
  NamedCsv csv(path);
  const std::size_t src = csv.col("kernel_source"), b = csv.col("batch_size"), isl = csv.col("isl"),
                    h = csv.col("num_heads"), kvh = csv.col("num_key_value_heads"), hd = csv.col("head_dim"),
                    ad = csv.col("attn_dtype"), kd = csv.col("kv_cache_dtype"), step = csv.col("step"),
                    lat = csv.col("latency"), dev = csv.col("device");
  const bool windowed = csv.has("window_size");
  const std::size_t win = windowed ? csv.col("window_size") : 0;
  const bool beams = csv.has("beam_width");
  const std::size_t beam = beams ? csv.col("beam_width") : 0;
  std::map<std::string, std::map<std::tuple<HeadShape, int, int>, std::vector<double>>> by_source;
  std::map<std::string, std::size_t> counts;
  ImportedAttention t;
  std::vector<std::string> f;
  std::string where;
  while (csv.next(f, where)) {
    if (f[ad] != "bfloat16" || f[kd] != kv_dtype) continue;
    if (windowed && whole(f[win], where, "window_size") != 0) continue;
    if (beams && whole(f[beam], where, "beam_width") != 1) continue;
    const int s = whole(f[step], where, "step");
    if (!decode && s != 0) continue;  // prefill after a cached prefix: composed at run time instead
    HeadShape shape{whole(f[h], where, "num_heads"), whole(f[kvh], where, "num_key_value_heads"),
                    whole(f[hd], where, "head_dim")};
    if (shape.heads < 1 || shape.kv_heads < 1 || shape.head_dim < 1 || shape.heads % shape.kv_heads)
      throw InputError(where + ": num_heads must be a positive multiple of num_key_value_heads");
    const int batch = whole(f[b], where, "batch_size");
    const int len = decode ? s + 1 : whole(f[isl], where, "isl");
    if (batch < 1 || len < 1) throw InputError(where + ": batch_size and length must be >= 1");
    by_source[f[src]][{shape, batch, len}].push_back(latency_us(f[lat], where));
    ++counts[f[src]];
    t.device = f[dev];
  }
  if (kv_dtype != "bfloat16" && counts.empty()) return t;  // no fp8-KV rows (a100)
  t.source = pick_source(counts, wanted, csv.path());
  for (const auto& [key, us] : medians(by_source[t.source]))
    t.rows.push_back({std::get<1>(key), std::get<2>(key), std::get<0>(key), us});
  return t;
}

// vLLM's fused MoE layer times (bf16, fp8 and fp8_block experts). Each configuration keeps the
// kernel source measured most for it (the tables time one per configuration, except where a
// newer collector added another). Absent folder: no rows.
std::vector<MoeRow> read_moe(const AiconfiguratorImport& opt, const std::string& version) {
  const fs::path base = fs::path(opt.dir) / opt.system / "moe" / opt.framework;
  if (!fs::is_directory(base)) return {};
  const fs::path dir = version_dir(opt, "moe", opt.framework, fs::is_directory(base / version) ? version : "");
  NamedCsv csv(dir / "moe_perf.csv");
  const std::size_t dt = csv.col("moe_dtype"), tok = csv.col("num_tokens"), hs = csv.col("hidden_size"),
                    is = csv.col("inter_size"), tk = csv.col("topk"), ne = csv.col("num_experts"),
                    tp = csv.col("moe_tp_size"), ep = csv.col("moe_ep_size"), dist = csv.col("distribution"),
                    lat = csv.col("latency"), src = csv.col("kernel_source");
  std::map<MoeShape, std::map<std::string, std::map<int, std::vector<double>>>> by_shape;  // shape -> source -> tokens
  std::vector<std::string> f;
  std::string where;
  while (csv.next(f, where)) {
    // mxfp4 as vLLM runs it on Hopper and Ampere: 4-bit weights, bf16 activations (w4a16).
    if (f[dt] != "bfloat16" && f[dt] != "fp8" && f[dt] != "fp8_block" && f[dt] != "w4a16_mxfp4") continue;
    if (f[dist] != "balanced" && f[dist] != "power_law_1.01" && f[dist] != "power_law_1.2") continue;
    const MoeShape s{.dtype = f[dt] == "bfloat16"      ? Dtype::bf16
                              : f[dt] == "w4a16_mxfp4" ? Dtype::mxfp4
                                                       : dtype_from_name(f[dt]),
                     .hidden = whole(f[hs], where, "hidden_size"),
                     .inter = whole(f[is], where, "inter_size"),
                     .topk = whole(f[tk], where, "topk"),
                     .experts = whole(f[ne], where, "num_experts"),
                     .moe_tp = whole(f[tp], where, "moe_tp_size"),
                     .moe_ep = whole(f[ep], where, "moe_ep_size"),
                     .distribution = f[dist]};
    const int tokens = whole(f[tok], where, "num_tokens");
    if (s.hidden < 1 || s.inter < 1 || s.topk < 1 || s.experts < s.topk || s.moe_tp < 1 || s.moe_ep < 1 || tokens < 1)
      throw InputError(where + ": sizes must be >= 1 and topk <= num_experts");
    by_shape[s][f[src]][tokens].push_back(latency_us(f[lat], where));
  }
  std::vector<MoeRow> rows;
  for (auto& [shape, sources] : by_shape) {
    const auto best = most_measured(sources);
    for (const auto& [tokens, us] : medians(best->second)) rows.push_back({shape, tokens, us});
  }
  return rows;
}

// The MLA shape of a model the MLA module tables name (their `model` column): the dimensions
// vLLM's DeepseekV2MLAAttention was built with, from the model's config.json.
const MlaShape* mla_shape_of(const std::string& model) {
  static const std::map<std::string, MlaShape> known = {{"deepseek-ai/DeepSeek-V3", MlaShape{.hidden = 7168,
                                                                                             .q_lora_rank = 1536,
                                                                                             .kv_lora_rank = 512,
                                                                                             .qk_nope_head_dim = 128,
                                                                                             .qk_rope_head_dim = 64,
                                                                                             .v_head_dim = 128}}};
  const auto it = known.find(model);
  return it == known.end() ? nullptr : &it->second;
}

struct ImportedMla {
  std::vector<MlaRow> context, generation;
  std::set<std::string> sources;
  std::size_t skipped = 0;  // rows of models whose MLA shape the importer does not know
};

// Multi-head latent attention: DeepSeek-V3's whole attention module (h100, h200, b200 at vLLM
// 0.24.0), or the attention kernel alone (a100 at 0.14.0, which measured DeepSeek-V3's shape
// too), per layer at tp_size 1, num_heads standing for 128 / TP. bf16 attention compute only
// (b200's fp8 prefill compute and nvfp4 GEMMs are left out). The kernel sources partition each
// table's grid (vLLM picks the backend by shape), so every row is kept. Absent folder: no rows.
ImportedMla read_mla(const AiconfiguratorImport& opt, const std::string& version) {
  ImportedMla out;
  const fs::path base = fs::path(opt.dir) / opt.system / "mla" / opt.framework;
  if (!fs::is_directory(base)) return out;
  const fs::path dir = version_dir(opt, "mla", opt.framework, fs::is_directory(base / version) ? version : "");
  for (const bool generation : {false, true}) {
    const std::string phase = generation ? "generation" : "context";
    const fs::path module_file = dir / ("mla_" + phase + "_module_perf.csv");
    const bool module = fs::exists(module_file);
    const fs::path file = module ? module_file : dir / (phase + "_mla_perf.csv");
    if (!fs::exists(file)) continue;
    NamedCsv csv(file);
    const std::size_t src = csv.col("kernel_source"), md = csv.col("mla_dtype"), kd = csv.col("kv_cache_dtype"),
                      h = csv.col("num_heads"), b = csv.col("batch_size"), isl = csv.col("isl"),
                      tp = csv.col("tp_size"), step = csv.col("step"), lat = csv.col("latency");
    const std::size_t model = module ? csv.col("model") : 0, gt = module ? csv.col("gemm_type") : 0;
    std::map<std::tuple<MlaShape, int, int>, std::vector<double>> by_key;
    std::vector<std::string> f;
    std::string where;
    while (csv.next(f, where)) {
      if (f[md] != "bfloat16" || (f[kd] != "bfloat16" && f[kd] != "fp8")) continue;
      if (module && f[gt] != "bfloat16" && f[gt] != "fp8_block") continue;
      if (whole(f[tp], where, "tp_size") != 1) continue;
      const int s = whole(f[step], where, "step");
      if (!generation && s != 0) continue;  // a prefill after a cached prefix: composed at run time
      // The kernel table measured DeepSeek-V3's shape; the module table names its model.
      const MlaShape* arch = mla_shape_of(module ? f[model] : "deepseek-ai/DeepSeek-V3");
      if (!arch) {
        ++out.skipped;
        continue;
      }
      MlaShape shape = *arch;
      shape.module = module;
      if (!module) shape.hidden = shape.q_lora_rank = 0;  // the kernel's key is the latent alone
      shape.gemm = module && f[gt] == "fp8_block" ? Dtype::fp8_block : Dtype::bf16;
      shape.kv = f[kd] == "fp8" ? Dtype::fp8 : Dtype::bf16;
      shape.heads = whole(f[h], where, "num_heads");
      const int batch = whole(f[b], where, "batch_size");
      const int len = generation ? s + 1 : whole(f[isl], where, "isl");
      if (shape.heads < 1 || batch < 1 || len < 1)
        throw InputError(where + ": num_heads, batch_size and length must be >= 1");
      by_key[{shape, batch, len}].push_back(latency_us(f[lat], where));
      out.sources.insert(f[src]);
    }
    for (const auto& [key, us] : medians(by_key))
      (generation ? out.generation : out.context).push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), us});
  }
  return out;
}

// `key: value` lines of the system yaml (numbers only; comments dropped).
std::map<std::string, double> yaml_numbers(const fs::path& path) {
  std::map<std::string, double> out;
  std::ifstream in = open_input_file(path.string(), "system yaml");
  static const std::regex kv(R"(^\s*([A-Za-z0-9_]+):\s*([0-9.eE+-]+)\s*(#.*)?$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kv)) out[m[1]] = std::stod(m[2]);
  }
  return out;
}

// How a planner names the attention kernels of a kernel_source.
std::string attention_label(const std::string& source) {
  static const std::map<std::string, std::string> labels = {{"vllm_flash_attn_fa3", "FA3"},
                                                             {"vllm_flash_attn_fa4", "FA4"},
                                                             {"vllm_flash_attn", "FlashAttention-2"},
                                                             {"vllm_flashinfer_trtllmprefill", "FlashInfer TRT-LLM"},
                                                             {"vllm_flashinfer_trtllmdecode", "FlashInfer TRT-LLM"}};
  const auto it = labels.find(source);
  return it == labels.end() ? source : it->second;
}

// The GPU kind whose entry (sim/cluster/gpu_spec.cpp) names this aiconfigurator system.
std::string gpu_kind_of(const std::string& system) {
  if (const GpuSpec* g = gpu_for_aiconfigurator_system(system)) return g->name;
  throw InputError("--system " + system + ": no kunsim GPU kind names it as its aiconfigurator system (give --gpu-kind)");
}

}  // namespace

ImportedProfile import_aiconfigurator(const AiconfiguratorImport& opt) {
  if (!fs::is_directory(opt.dir)) throw InputError(opt.dir + ": database folder not found");
  ImportedProfile out;
  KernelTables& t = out.tables;
  const std::string kind = opt.gpu_kind.empty() ? gpu_kind_of(opt.system) : opt.gpu_kind;

  const fs::path gemm_dir = version_dir(opt, "gemm", opt.framework, opt.version);
  const std::string version = gemm_dir.filename().string();
  std::string gemm_source, device;
  std::map<std::string, std::string> gemm_sources;
  std::vector<GemmRow> gemm_fp8, gemm_fp8_block;
  {
    NamedCsv csv(gemm_dir / "gemm_perf.csv");
    const std::size_t dt = csv.col("gemm_dtype"), m = csv.col("m"), n = csv.col("n"), k = csv.col("k"),
                      lat = csv.col("latency"), src = csv.col("kernel_source"), dev = csv.col("device");
    // dtype -> kernel source -> (n, k, m) -> times
    std::map<std::string, std::map<std::string, std::map<std::tuple<int, int, int>, std::vector<double>>>> by_dtype;
    std::vector<std::string> f;
    std::string where;
    while (csv.next(f, where)) {
      if (f[dt] != "bfloat16" && f[dt] != "fp8" && f[dt] != "fp8_block") continue;
      const int mm = whole(f[m], where, "m"), nn = whole(f[n], where, "n"), kk = whole(f[k], where, "k");
      if (mm < 1 || nn < 1 || kk < 1) throw InputError(where + ": m, n and k must be >= 1");
      by_dtype[f[dt]][f[src]][{nn, kk, mm}].push_back(latency_us(f[lat], where));
      device = f[dev];
    }
    if (by_dtype["bfloat16"].empty()) throw InputError(csv.path() + ": no bfloat16 rows");
    // Each dtype's most measured kernel (fp8_block has several: vLLM picks one per platform).
    for (auto& [dtype, sources] : by_dtype) {
      if (sources.empty()) continue;
      const auto best = most_measured(sources);
      std::vector<GemmRow>& rows = dtype == "bfloat16" ? t.gemm : dtype == "fp8" ? gemm_fp8 : gemm_fp8_block;
      for (const auto& [key, us] : medians(best->second))
        rows.push_back({double(std::get<2>(key)), double(std::get<0>(key)), double(std::get<1>(key)), us});
      gemm_sources[dtype] = best->first;
    }
    gemm_source = gemm_sources["bfloat16"];
  }
  const fs::path attn_dir = version_dir(opt, "attention", opt.framework, version);
  const ImportedAttention prefill = read_attention(attn_dir / "context_attention_perf.csv", false, opt.kernel_source);
  const ImportedAttention decode = read_attention(attn_dir / "generation_attention_perf.csv", true, opt.kernel_source);
  t.prefill = prefill.rows;
  t.decode = decode.rows;
  // The same kernels reading an fp8 KV cache.
  const ImportedAttention prefill_fp8kv =
      read_attention(attn_dir / "context_attention_perf.csv", false, prefill.source, "fp8");
  const ImportedAttention decode_fp8kv =
      read_attention(attn_dir / "generation_attention_perf.csv", true, decode.source, "fp8");
  const std::vector<MoeRow> moe = read_moe(opt, version);
  const ImportedMla mla = read_mla(opt, version);

  // vLLM's custom all-reduce (graph and eager backends) and NCCL's.
  std::map<std::tuple<std::string, int, double>, std::vector<double>> ar;
  {
    NamedCsv csv(version_dir(opt, "comm", opt.framework, version) / "custom_allreduce_perf.csv");
    const std::size_t dt = csv.col("allreduce_dtype"), g = csv.col("num_gpus"), sz = csv.col("message_size"),
                      lat = csv.col("latency"), be = csv.col("backend");
    std::vector<std::string> f;
    std::string where;
    while (csv.next(f, where)) {
      if (f[dt] != "bfloat16") continue;
      if (f[be] != "vllm_graph" && f[be] != "vllm_eager")
        throw InputError(where + ": backend: expected vllm_graph or vllm_eager, got \"" + f[be] + "\"");
      ar[{f[be], whole(f[g], where, "num_gpus"), 2.0 * whole(f[sz], where, "message_size")}].push_back(latency_us(f[lat], where));
    }
  }
  const fs::path nccl_dir = version_dir(opt, "comm", "nccl", "");
  {
    NamedCsv csv(nccl_dir / "nccl_perf.csv");
    const std::size_t dt = csv.col("nccl_dtype"), g = csv.col("num_gpus"), sz = csv.col("message_size"),
                      lat = csv.col("latency"), op = csv.col("op_name");
    std::vector<std::string> f;
    std::string where;
    while (csv.next(f, where)) {
      if (f[op] != "all_reduce" || f[dt] != "half") continue;
      ar[{"nccl", whole(f[g], where, "num_gpus"), 2.0 * whole(f[sz], where, "message_size")}].push_back(latency_us(f[lat], where));
    }
  }
  for (const auto& [key, us] : medians(ar)) t.allreduce.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), us});
  t.sort();
  // The optional tables, as the files hold them (sorted as sort() sorts the others).
  auto optional = std::make_shared<std::map<std::string, std::string>>();
  {
    KernelTables sorted;
    sorted.gemm = gemm_fp8;
    sorted.prefill = prefill_fp8kv.rows;
    sorted.decode = decode_fp8kv.rows;
    sorted.sort();
    if (!sorted.gemm.empty()) (*optional)["gemm_fp8.csv"] = gemm_rows_text(sorted.gemm);
    if (!sorted.prefill.empty()) (*optional)["attn_prefill_fp8kv.csv"] = attention_rows_text(sorted.prefill, false);
    if (!sorted.decode.empty()) (*optional)["attn_decode_fp8kv.csv"] = attention_rows_text(sorted.decode, true);
    sorted.gemm = gemm_fp8_block;
    sorted.sort();
    if (!sorted.gemm.empty()) (*optional)["gemm_fp8_block.csv"] = gemm_rows_text(sorted.gemm);
    if (!moe.empty()) (*optional)["moe.csv"] = moe_rows_text(moe);
    if (!mla.context.empty()) (*optional)["mla_context.csv"] = mla_rows_text(mla.context);
    if (!mla.generation.empty()) (*optional)["mla_generation.csv"] = mla_rows_text(mla.generation);
  }
  t.optional = optional;

  const auto yaml = yaml_numbers(fs::path(opt.dir) / (opt.system + ".yaml"));
  auto yaml_value = [&](const char* key) {
    const auto it = yaml.find(key);
    if (it == yaml.end()) throw InputError((fs::path(opt.dir) / (opt.system + ".yaml")).string() + ": no " + key);
    return it->second;
  };
  Json& meta = out.meta;
  meta["format"] = 2;
  meta["variant"] = "production-import";
  meta["kind"] = kind;
  meta["gpu"] = device;
  meta["importer_version"] = kAiconfiguratorImporterVersion;
  meta["source"] = "NVIDIA aiconfigurator performance database (github.com/ai-dynamo/aiconfigurator), system " +
                   opt.system + "; arXiv 2601.06288";
  meta["source_repository"] = "https://github.com/ai-dynamo/aiconfigurator";
  meta["source_path"] = "aic-core/src/aiconfigurator_core/systems/data/" + opt.system;
  meta["source_short"] = "aiconfigurator";
  meta["licence"] = "Apache-2.0, Copyright (c) 2026 NVIDIA CORPORATION & AFFILIATES (the measurements); "
                    "this profile is kunsim's reduction of them";
  meta["system"] = opt.system;
  meta["framework"] = opt.framework;
  meta["framework_label"] = opt.framework == "vllm" ? "vLLM" : opt.framework;
  meta["framework_version"] = version;
  meta["nccl_version"] = nccl_dir.filename().string();
  meta["kernel_source"] = {{"gemm", gemm_source}, {"attn_prefill", prefill.source}, {"attn_decode", decode.source}};
  for (const char* dt : {"fp8", "fp8_block"})
    if (gemm_sources.count(dt)) meta["kernel_source"][std::string("gemm_") + dt] = gemm_sources[dt];
  if (!moe.empty()) meta["kernel_source"]["moe"] = "per configuration, the most measured (vLLM fused_experts)";
  if (!mla.sources.empty()) {
    std::string list;
    for (const auto& s : mla.sources) list += (list.empty() ? "" : ", ") + s;
    const bool module = !mla.context.empty() && mla.context.front().shape.module;
    meta["kernel_source"]["mla"] = std::string(module ? "DeepSeek-V3's attention module" : "the attention kernel") +
                                   ", each shape by the backend vLLM picked: " + list;
  }
  if (mla.skipped > 0) meta["mla_rows_skipped"] = mla.skipped;  // models of an MLA shape not known here
  meta["attention_kernels"] = attention_label(prefill.source);
  Json weights = Json::array({"bf16"}), kv = Json::array({"bf16"});
  if (!gemm_fp8.empty()) weights.push_back("fp8");
  if (!gemm_fp8_block.empty()) weights.push_back("fp8_block");
  if (!decode_fp8kv.rows.empty()) kv.push_back("fp8");
  meta["dtype"] = {{"weights", weights}, {"kv_cache", kv}};
  // The source's dates: when the tables were last changed, and the snapshot taken.
  std::ifstream src_md(fs::path(opt.dir) / "SOURCE.md");
  std::stringstream md;
  md << src_md.rdbuf();
  std::smatch m;
  const std::string md_text = md.str();
  static const std::regex changed(R"(last changed\s+in\s+([0-9a-f]+)\s+\((\d{4}-\d{2}-\d{2})\))");
  static const std::regex snapshot(R"(Snapshot commit\s+([0-9a-f]+)\s+\((\d{4}-\d{2}-\d{2})\))");
  meta["date"] = "unknown";
  if (std::regex_search(md_text, m, changed)) {
    meta["date"] = m[2].str();
    meta["tables_changed"] = {{"commit", m[1].str()}, {"date", m[2].str()}};
  }
  if (std::regex_search(md_text, m, snapshot)) meta["snapshot"] = {{"commit", m[1].str()}, {"date", m[2].str()}};
  meta["measured"] = {"gemm", "attn_prefill", "attn_decode", "allreduce"};
  for (const auto& [file, text] : *optional) meta["measured"].push_back(file.substr(0, file.size() - 4));
  meta["derived"] = {
      {"attention shapes absent from the tables",
       "the nearest measured head shape (same head_dim, then GQA group) read at the batch of equal work: FLOPs "
       "(prefill), KV bytes read (decode)"},
      {"chunked prefill, batches of unequal prompts, mixed batches",
       "composed from the prefill and decode tables (batch_shape.hpp)"},
      {"element-wise kernels (RMSNorm, SiLU-and-mul, rope, KV-cache write, an MoE router's top-k)",
       "roofline with aiconfigurator's memory correction (elementwise below)"},
      {"MoE configurations absent from the tables (shape, parallelism, dtype or routing)",
       "the roofline's count of the experts the tokens touch, named in cost_source"},
      {"an MoE router's gate GEMM", "the bf16 GEMM table (outside fused_experts' timed region)"},
      {"MLA attention of a shape or head count the MLA tables lack",
       "projections from the GEMM tables and attention by the roofline, named in cost_source"},
      {"host overhead per iteration", "kunsim's overhead terms (cost.graph_overhead_us, cost.eager_overhead_us)"}};
  meta["elementwise"] = {{"hbm_bytes_per_s", yaml_value("mem_bw")},
                         {"bw_factor", yaml_value("mem_bw_empirical_scaling_factor")},
                         {"latency_s", yaml_value("mem_empirical_constant_latency")}};
  meta["rows"] = {{"gemm", t.gemm.size()},
                  {"attn_prefill", t.prefill.size()},
                  {"attn_decode", t.decode.size()},
                  {"allreduce", t.allreduce.size()}};
  for (const auto& [file, text] : *optional)
    meta["rows"][file.substr(0, file.size() - 4)] = std::count(text.begin(), text.end(), '\n') - 1;
  return out;
}

std::string aiconfigurator_system(const std::string& gpu_kind) {
  const auto* kind = gpu_registry().find(gpu_kind);
  return kind ? kind->entry.aiconfigurator_system : std::string();
}

std::string aiconfigurator_dir() {
  const char* env = std::getenv("KUNSIM_MEASURED_DIR");
  return env ? env : "";
}

std::shared_ptr<const Profile> aiconfigurator_profile(const std::string& gpu_kind) {
  const std::string dir = aiconfigurator_dir();
  if (dir.empty()) return nullptr;
  // Sweeps build scenarios on several threads.
  static std::mutex mu;
  static std::map<std::pair<std::string, std::string>, std::shared_ptr<const Profile>> imported;
  const std::lock_guard<std::mutex> lock(mu);
  if (const auto it = imported.find({dir, gpu_kind}); it != imported.end()) return it->second;
  // A variable naming no folder is a mistake to stop at: the committed profile would otherwise
  // price the run while the user believes their own tables do.
  if (!fs::is_directory(dir)) throw InputError("KUNSIM_MEASURED_DIR=" + dir + ": not a folder");
  std::shared_ptr<const Profile> p;
  AiconfiguratorImport opt;
  opt.dir = dir;
  opt.system = aiconfigurator_system(gpu_kind);
  if (!opt.system.empty() && fs::exists(fs::path(opt.dir) / (opt.system + ".yaml"))) {
    const ImportedProfile ip = import_aiconfigurator(opt);
    auto profile = std::make_shared<Profile>();
    profile->dir = (fs::path(opt.dir) / opt.system).string();
    profile->name = kImportedProfileName;
    profile->meta = ip.meta;
    profile->format = 2;
    profile->variant = "production-import";
    profile->kernels = ip.tables;
    profile->kernel_index = std::make_shared<const KernelTableIndex>(profile->kernels);
    p = profile;
  }
  imported[{dir, gpu_kind}] = p;
  return p;
}

void write_kernel_table_profile(const std::string& out, const ImportedProfile& p, const OutputRules& rules) {
  OutputFolder folder(out, rules);
  write_text(folder.path() / "meta.json", json_file_text(p.meta));
  for (const char* file : kKernelTableFiles) write_text(folder.path() / file, kernel_table_text(p.tables, file));
  for (const auto& [file, text] : *p.tables.optional) write_text(folder.path() / file, text);
  folder.commit();
}

}  // namespace kunsim
