#include "calibrate/profile_writer.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace kunsim::calibrate {
namespace {

namespace fs = std::filesystem;

// ops.csv's header; rows kept from a file with the earlier one (no spread) get empty min and p90.
const char* const kOpsHeader = "op,model,tp,p1,p2,median_s,repeats,min_s,p90_s";
const char* const kOpsHeaderV1 = "op,model,tp,p1,p2,median_s,repeats";
const char* const kIterHeader = "model,tp,prefill_tokens,prefill_context,decodes,decode_context_sum,measured_s";

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", x);
  return buf;
}
std::string secs(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6e", x);
  return buf;
}

// The first `n` comma-separated fields of a line, joined: a row's merge key.
std::string key_of(const std::string& line, int n) {
  std::size_t pos = 0;
  for (int i = 0; i < n && pos != std::string::npos; ++i) {
    pos = line.find(',', pos);
    if (pos != std::string::npos && i + 1 < n) ++pos;
  }
  return pos == std::string::npos ? line : line.substr(0, pos);
}

// Existing data lines of `path` whose key is not being re-measured. A file with the `older`
// header has its lines padded with `pad` to today's columns.
std::vector<std::string> kept_lines(const fs::path& path, const char* header, int key_fields,
                                    const std::set<std::string>& replaced, const char* older = nullptr,
                                    const char* pad = "") {
  std::vector<std::string> kept;
  std::ifstream in(path);
  if (!in) return kept;
  std::string line;
  bool first = true, upgrade = false;
  while (std::getline(in, line)) {
    if (first) {
      first = false;
      upgrade = older && line == older;
      if (line != header && !upgrade)
        throw std::runtime_error(path.string() + ": not a kunsim profile file (header differs)");
      continue;
    }
    if (!line.empty() && !replaced.count(key_of(line, key_fields))) kept.push_back(upgrade ? line + pad : line);
  }
  return kept;
}

void write_lines(const fs::path& path, const char* header, const std::vector<std::string>& lines) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << header << '\n';
    for (const auto& l : lines) out << l << '\n';
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path);
}

}  // namespace

void ProfileWriter::write(const nlohmann::json& device, const std::vector<nlohmann::json>& runs) const {
  fs::create_directories(dir_);
  std::set<std::string> replaced;
  std::vector<std::string> fresh;
  for (const auto& r : ops_) {
    const std::string line = r.op + "," + r.model + "," + std::to_string(r.tp) + "," + num(r.p1) + "," + num(r.p2) + "," +
                             secs(r.seconds) + "," + std::to_string(r.repeats) + "," +
                             (r.min_s > 0 ? secs(r.min_s) : "") + "," + (r.p90_s > 0 ? secs(r.p90_s) : "");
    replaced.insert(key_of(line, 3));
    fresh.push_back(line);
  }
  std::vector<std::string> lines = kept_lines(fs::path(dir_) / "ops.csv", kOpsHeader, 3, replaced, kOpsHeaderV1, ",,");
  lines.insert(lines.end(), fresh.begin(), fresh.end());
  write_lines(fs::path(dir_) / "ops.csv", kOpsHeader, lines);

  for (const auto& [file, rows] : {std::pair{"iterations.csv", &iterations_}, std::pair{"attention_mixed.csv", &mixed_}}) {
    replaced.clear();
    fresh.clear();
    for (const auto& r : *rows) {
      const std::string line = r.model + "," + std::to_string(r.tp) + "," + std::to_string(r.prefill_tokens) + "," +
                               std::to_string(r.prefill_context) + "," + std::to_string(r.decodes) + "," +
                               std::to_string(r.decode_context_sum) + "," + secs(r.seconds);
      replaced.insert(key_of(line, 2));
      fresh.push_back(line);
    }
    if (rows->empty() && !fs::exists(fs::path(dir_) / file)) continue;
    lines = kept_lines(fs::path(dir_) / file, kIterHeader, 2, replaced);
    lines.insert(lines.end(), fresh.begin(), fresh.end());
    write_lines(fs::path(dir_) / file, kIterHeader, lines);
  }

  nlohmann::json meta = nlohmann::json::object();
  const fs::path meta_path = fs::path(dir_) / "meta.json";
  if (fs::exists(meta_path)) {
    std::ifstream in(meta_path);
    meta = nlohmann::json::parse(in, nullptr, false);
    if (meta.is_discarded() || !meta.is_object()) throw std::runtime_error(meta_path.string() + ": not valid JSON");
  }
  for (const auto& [k, v] : device.items()) meta[k] = v;
  meta["format"] = 1;                 // per-model ops (sim/cost/profile.hpp)
  meta["variant"] = "kunsim-kernels";  // kunsim's own kernels; cost.model=auto prefers production imports
  nlohmann::json all_runs = nlohmann::json::array();
  auto same = [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.value("model", std::string()) == b.value("model", std::string()) && a.value("tp", 0) == b.value("tp", 0);
  };
  if (meta.contains("runs") && meta["runs"].is_array())
    for (const auto& old : meta["runs"]) {
      bool superseded = false;
      for (const auto& r : runs) superseded |= same(old, r);
      if (!superseded) all_runs.push_back(old);
    }
  for (const auto& r : runs) all_runs.push_back(r);
  meta["runs"] = all_runs;
  std::ofstream out(meta_path);
  out << meta.dump(2) << '\n';
  if (!out) throw std::runtime_error(meta_path.string() + ": cannot write");
}

}  // namespace kunsim::calibrate
