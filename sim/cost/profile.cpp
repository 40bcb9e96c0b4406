#include "sim/cost/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/input_file.hpp"
#include "sim/cost/csv_rows.hpp"
#include "sim/cost/kernel_table_interp.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

}  // namespace

const std::vector<ProfilePoint>* Profile::find(const std::string& op, const std::string& model, int tp) const {
  for (const auto& key : {std::tuple<std::string, std::string, int>{op, model, tp}, {op, "", tp}, {op, "", 0}}) {
    const auto it = ops.find(key);  // transfers hold for any model; all-reduce per rank count
    if (it != ops.end() && !it->second.empty()) return &it->second;
  }
  return nullptr;
}

NcclTestsLog parse_nccl_tests(const std::string& path) {
  std::ifstream in = open_input_file(path, "nccl-tests log");
  std::string op, line;
  std::vector<ProfilePoint> pts;
  std::size_t n = 0;
  int ranks = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("#  Rank", 0) == 0 || line.rfind("#   Rank", 0) == 0) ++ranks;
    if (line.find("all_reduce_perf") != std::string::npos || line.find("AllReduce") != std::string::npos) op = "allreduce";
    if (line.find("sendrecv_perf") != std::string::npos || line.find("SendRecv") != std::string::npos) op = "send";
    std::istringstream ls(line);
    std::vector<std::string> f;
    for (std::string w; ls >> w;) f.push_back(w);
    // Data rows start with the size in bytes: "1048576  262144  float  sum  -1  25.3  41.4 ...".
    if (f.size() < 6 || f[0][0] == '#' || !std::isdigit(static_cast<unsigned char>(f[0][0]))) continue;
    // Columns: size count type [redop] root time algbw busbw #wrong ... (redop only for reductions).
    const std::size_t time_col = (f.size() >= 13) ? 5 : 4;
    const std::string where = path + ":" + std::to_string(n);
    ProfilePoint p;
    p.p1 = csv_number(f[0], where, "size");
    p.seconds = csv_number(f[time_col], where, "time (us)") * 1e-6;
    pts.push_back(p);
  }
  if (op.empty() || pts.empty())
    throw InputError(path + ": not nccl-tests output (all_reduce_perf or sendrecv_perf with data rows)");
  return {op, ranks, pts};
}

namespace {

void read_ops(Profile& p, std::istream& in, const std::string& name) {
  // ops.csv since kunsim-calibrate records the spread: min_s and p90_s beside the median (empty
  // where a row was kept from an earlier session); before that, the median alone.
  read_csv(in, name, "op,model,tp,p1,p2,median_s,repeats,min_s,p90_s", [&](const std::vector<std::string>& f, const std::string& w) {
    const bool transfer = f[0] == "allreduce" || f[0] == "send" || f[0].rfind("memcpy_", 0) == 0;
    bool known = transfer;
    for (const char* op : kComputeOps) known |= f[0] == op;
    for (const char* op : kOptionalOps) known |= f[0] == op;
    if (!known) throw InputError(w + ": unknown op \"" + f[0] + "\"");
    const int tp = static_cast<int>(csv_number(f[2], w, "tp"));
    ProfilePoint pt{csv_number(f[3], w, "p1"), csv_number(f[4], w, "p2"), csv_number(f[5], w, "median_s")};
    csv_number(f[6], w, "repeats");
    for (std::size_t i = 7; i < f.size(); ++i)
      if (!f[i].empty()) csv_number(f[i], w, i == 7 ? "min_s" : "p90_s");
    p.ops[{f[0], transfer ? "" : f[1], transfer && f[0] != "allreduce" ? 0 : tp}].push_back(pt);
  }, {"op,model,tp,p1,p2,median_s,repeats"});
}

void read_batches(std::vector<IterationPoint>& into, std::istream& in, const std::string& name) {
  read_csv(in, name, "model,tp,prefill_tokens,prefill_context,decodes,decode_context_sum,measured_s",
           [&](const std::vector<std::string>& f, const std::string& w) {
             IterationPoint ip;
             ip.model = f[0];
             ip.tp = static_cast<int>(csv_number(f[1], w, "tp"));
             ip.prefill_tokens = static_cast<std::int64_t>(csv_number(f[2], w, "prefill_tokens"));
             ip.prefill_context = static_cast<std::int64_t>(csv_number(f[3], w, "prefill_context"));
             ip.decodes = static_cast<std::int64_t>(csv_number(f[4], w, "decodes"));
             ip.decode_context_sum = static_cast<std::int64_t>(csv_number(f[5], w, "decode_context_sum"));
             ip.seconds = csv_number(f[6], w, "measured_s");
             into.push_back(ip);
           });
}

// The file's contents, or "" when it does not exist.
std::string read_if_present(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  std::ifstream in = open_input_file(path.string(), "profile", kMaxJsonDocumentBytes);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

bool Profile::covers(const std::string& model, int tp) const {
  if (format == 2) return true;
  for (const char* op : kComputeOps)
    if (!ops.count({op, model, tp})) return false;
  return true;
}

std::string Profile::describe() const {
  const auto field = [&](const char* key) {
    return meta.is_object() && meta.contains(key) && meta[key].is_string() ? meta[key].get<std::string>() : std::string();
  };
  if (format == 2)
    return field("framework_label") + " " + field("framework_version") + " " + field("attention_kernels") + " kernels on " +
           field("gpu") + " (" + field("source_short") + ")";
  const std::string gpu = field("gpu"), date = field("date");
  return "kunsim's own kernels on " + (gpu.empty() ? std::string("?") : gpu) + " (measured " +
         (date.empty() ? std::string("?") : date) + ")";
}

Profile read_profile(const std::string& dir, const std::function<std::string(const std::string&)>& read) {
  Profile p;
  p.dir = dir;
  p.name = fs::path(dir).filename().string();
  const std::string meta = read("meta.json");
  if (!meta.empty()) p.meta = parse_json_text(meta, dir + "/meta.json");
  if (p.meta.is_object() && p.meta.contains("format")) {
    const Json& f = p.meta["format"];
    if (!f.is_number_integer() || (f.get<int>() != 1 && f.get<int>() != 2))
      throw InputError(dir + "/meta.json: format: expected 1 or 2 (this kunsim reads profile formats 1 and 2)");
    p.format = f.get<int>();
  }
  p.variant = p.meta.is_object() ? p.meta.value("variant", std::string()) : std::string();
  if (p.format == 2) {
    p.kernels = read_kernel_tables(dir, read);
    p.kernel_index = std::make_shared<const KernelTableIndex>(p.kernels);
    if (p.variant.empty()) p.variant = "production-import";
    return p;
  }
  if (p.variant.empty()) p.variant = "kunsim-kernels";
  std::istringstream ops{read("ops.csv")}, its{read("iterations.csv")}, mixed{read("attention_mixed.csv")};
  read_ops(p, ops, (fs::path(dir) / "ops.csv").string());
  read_batches(p.iterations, its, (fs::path(dir) / "iterations.csv").string());
  read_batches(p.mixed_attention, mixed, (fs::path(dir) / "attention_mixed.csv").string());
  return p;
}

Profile load_profile(const std::string& dir) {
  if (fs::exists(dir) && !fs::is_directory(dir)) throw InputError(dir + ": a profile is a folder, this is a file");
  if (!fs::is_directory(dir)) throw InputError(dir + ": profile folder not found");
  Profile p = read_profile(dir, [&](const std::string& file) { return read_if_present(fs::path(dir) / file); });
  if (p.format == 2) return p;
  std::vector<fs::path> nccl;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().string().size() > 9 && e.path().string().substr(e.path().string().size() - 9) == ".nccl.txt")
      nccl.push_back(e.path());
  std::sort(nccl.begin(), nccl.end());
  for (const auto& f : nccl) {
    auto log = parse_nccl_tests(f.string());
    auto& into = p.ops[{log.op, "", log.op == "allreduce" ? log.ranks : 0}];
    into.insert(into.end(), log.points.begin(), log.points.end());
  }
  if (p.ops.empty()) throw InputError(dir + ": no measurements (ops.csv, *.nccl.txt, or a format 2 meta.json)");
  return p;
}

ModelSpec profile_model(const Profile& p, const std::string& name, const std::string& where) {
  for (const auto& m : model_catalogue())
    if (m.name == name) return m;
  if (p.meta.is_object() && p.meta.contains("runs") && p.meta["runs"].is_array())
    for (const auto& run : p.meta["runs"])
      if (run.is_object() && run.value("model", std::string()) == name && run.contains("model_spec"))
        return model_from_json(run["model_spec"], p.dir + "/meta.json runs[" + name + "].model_spec", name);
  return find_model(name, where);  // unknown: the error lists the catalogue
}

}  // namespace kunsim
