#include "sim/cost/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kunsim {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

double number(const std::string& s, const std::string& where, const char* what) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  if (used != s.size() || s.empty() || !std::isfinite(v) || v < 0)
    throw InputError(where + ": " + what + ": expected a finite number >= 0, got \"" + s.substr(0, 40) + "\"");
  return v;
}

// Calls row(fields, "file:line") for each data line of a CSV whose header must be `header`.
template <class Row>
void read_csv(std::istream& in, const std::string& name, const std::string& header, Row row) {
  std::string line;
  std::size_t n = 0;
  const std::size_t cols = split(header, ',').size();
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string where = name + ":" + std::to_string(n);
    if (n == 1) {
      if (line != header) throw InputError(where + ": expected header \"" + header + "\"");
      continue;
    }
    const auto f = split(line, ',');
    if (f.size() != cols)
      throw InputError(where + ": expected " + std::to_string(cols) + " fields, got " + std::to_string(f.size()));
    row(f, where);
  }
}

}  // namespace

const std::vector<ProfilePoint>* Profile::find(const std::string& op, const std::string& model, int tp) const {
  for (const auto& key : {std::tuple<std::string, std::string, int>{op, model, tp}, {op, "", tp}, {op, "", 0}}) {
    const auto it = ops.find(key);  // transfers hold for any model; all-reduce per rank count
    if (it != ops.end() && !it->second.empty()) return &it->second;
  }
  return nullptr;
}

bool Profile::covers(const std::string& model, int tp) const {
  for (const char* op : kComputeOps)
    if (!ops.count({op, model, tp})) return false;
  return true;
}

NcclTestsLog parse_nccl_tests(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open file");
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
    p.p1 = number(f[0], where, "size");
    p.seconds = number(f[time_col], where, "time (us)") * 1e-6;
    pts.push_back(p);
  }
  if (op.empty() || pts.empty())
    throw InputError(path + ": not nccl-tests output (all_reduce_perf or sendrecv_perf with data rows)");
  return {op, ranks, pts};
}

namespace {

void read_ops(Profile& p, std::istream& in, const std::string& name) {
  read_csv(in, name, "op,model,tp,p1,p2,median_s,repeats", [&](const std::vector<std::string>& f, const std::string& w) {
    const bool transfer = f[0] == "allreduce" || f[0] == "send" || f[0].rfind("memcpy_", 0) == 0;
    bool known = transfer;
    for (const char* op : kComputeOps) known |= f[0] == op;
    for (const char* op : kOptionalOps) known |= f[0] == op;
    if (!known) throw InputError(w + ": unknown op \"" + f[0] + "\"");
    const int tp = static_cast<int>(number(f[2], w, "tp"));
    ProfilePoint pt{number(f[3], w, "p1"), number(f[4], w, "p2"), number(f[5], w, "median_s")};
    number(f[6], w, "repeats");
    p.ops[{f[0], transfer ? "" : f[1], transfer && f[0] != "allreduce" ? 0 : tp}].push_back(pt);
  });
}

void read_batches(std::vector<IterationPoint>& into, std::istream& in, const std::string& name) {
  read_csv(in, name, "model,tp,prefill_tokens,prefill_context,decodes,decode_context_sum,measured_s",
           [&](const std::vector<std::string>& f, const std::string& w) {
             IterationPoint ip;
             ip.model = f[0];
             ip.tp = static_cast<int>(number(f[1], w, "tp"));
             ip.prefill_tokens = static_cast<std::int64_t>(number(f[2], w, "prefill_tokens"));
             ip.prefill_context = static_cast<std::int64_t>(number(f[3], w, "prefill_context"));
             ip.decodes = static_cast<std::int64_t>(number(f[4], w, "decodes"));
             ip.decode_context_sum = static_cast<std::int64_t>(number(f[5], w, "decode_context_sum"));
             ip.seconds = number(f[6], w, "measured_s");
             into.push_back(ip);
           });
}

// Reads a profile's CSV parts into p; an empty part is an absent file. `dir` names them.
void read_parts(Profile& p, const std::string& dir, std::string_view ops_csv, std::string_view iterations_csv,
                std::string_view attention_mixed_csv) {
  std::istringstream ops{std::string(ops_csv)}, its{std::string(iterations_csv)}, mixed{std::string(attention_mixed_csv)};
  read_ops(p, ops, (fs::path(dir) / "ops.csv").string());
  read_batches(p.iterations, its, (fs::path(dir) / "iterations.csv").string());
  read_batches(p.mixed_attention, mixed, (fs::path(dir) / "attention_mixed.csv").string());
}

// The file's contents, or "" when it does not exist.
std::string read_if_present(const fs::path& path) {
  if (!fs::exists(path)) return {};
  std::ifstream in(path);
  if (!in) throw InputError(path.string() + ": cannot open file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Profile load_profile(const std::string& dir) {
  Profile p;
  p.dir = dir;
  if (!fs::is_directory(dir)) throw InputError(dir + ": profile folder not found");
  if (fs::exists(fs::path(dir) / "meta.json")) p.meta = parse_json_file((fs::path(dir) / "meta.json").string());
  read_parts(p, dir, read_if_present(fs::path(dir) / "ops.csv"),
             read_if_present(fs::path(dir) / "iterations.csv"), read_if_present(fs::path(dir) / "attention_mixed.csv"));
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
  if (p.ops.empty()) throw InputError(dir + ": no measurements (ops.csv or *.nccl.txt)");
  return p;
}

Profile load_profile_text(const std::string& dir, std::string_view meta_json, std::string_view ops_csv,
                          std::string_view iterations_csv, std::string_view attention_mixed_csv) {
  Profile p;
  p.dir = dir;
  if (!meta_json.empty()) p.meta = parse_json_text(std::string(meta_json), dir + "/meta.json");
  read_parts(p, dir, ops_csv, iterations_csv, attention_mixed_csv);
  if (p.ops.empty()) throw InputError(dir + ": no measurements in ops.csv");
  return p;
}

}  // namespace kunsim
