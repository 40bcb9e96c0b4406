#include "whatif/sweep.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <thread>

#include "run/cluster_growth.hpp"
#include "run/simulation.hpp"
#include "sim/core/interruption.hpp"
#include "sim/core/version.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

std::string csv_cell(const Json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

std::string fmt(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

// A metric window's sweep.csv columns, after its name: requests arriving in it, then their
// latencies and attainment, and the ITL of the gaps ending in it (WindowMetrics).
constexpr const char* kWindowColumns[] = {"arrived",    "ttft_p50_s", "ttft_p99_s", "tpot_mean_s",
                                          "tpot_p99_s", "itl_p99_s",  "e2e_p99_s",  "slo_attainment"};

std::string window_cell(const Json& w, const std::string& column) {
  if (column == "arrived") return w["requests"]["arrived"].dump();
  if (column == "slo_attainment") return fmt(w["slo"]["attainment"].get<double>());
  // <metric>_<stat>_s
  const auto cut = column.find('_');
  const std::string metric = column.substr(0, cut), stat = column.substr(cut + 1, column.size() - cut - 3);
  return fmt(w[metric + "_s"][stat].get<double>());
}

// Key paths in `--set` form ("a.b.c") applied to a copy of the base.
Json with_values(const Json& base, const std::vector<std::pair<std::string, Json>>& values) {
  Json j = base;
  for (const auto& [k, v] : values) apply_override(j, k + "=" + v.dump());
  return j;
}

}  // namespace

SweepSpec load_sweep(const std::string& path, bool force) {
  return sweep_from_json(parse_json_file(path), path, fs::path(path).stem().string(),
                         fs::path(path).parent_path().string(), force);
}

SweepSpec sweep_from_json(const Json& root, const std::string& origin, const std::string& default_name,
                          const std::string& dir, bool force) {
  JsonFields f(root, "");
  SweepSpec spec;
  spec.name = f.string("name", default_name);
  spec.base_dir = dir;
  const Json& base_j = f.required_child("base");
  Json base;
  if (base_j.is_string()) {
    fs::path b = base_j.get<std::string>();
    if (b.is_relative()) b = fs::path(spec.base_dir) / b;
    base = parse_json_file(b.string());
    spec.base_dir = b.parent_path().string();
  } else if (base_j.is_object()) {
    base = base_j;
  } else {
    f.fail("base", "a scenario file path or an inline scenario object");
  }
  // Grid: cartesian product, last key fastest. Keys in the file's order are not kept by the
  // JSON library, so they are taken sorted: a stable, documented order.
  std::vector<std::pair<std::string, std::vector<Json>>> grid, zip;
  for (auto [name, into] : {std::pair{"grid", &grid}, std::pair{"zip", &zip}})
    if (const Json* g = f.child(name)) {
      if (!g->is_object()) f.fail(name, "an object of key: [values]");
      for (auto it = g->begin(); it != g->end(); ++it) {
        const std::string p = std::string(name) + "." + it.key();
        if (!it.value().is_array() || it.value().empty()) throw InputError(p + ": expected a non-empty array of values");
        into->emplace_back(it.key(), std::vector<Json>(it.value().begin(), it.value().end()));
      }
    }
  std::size_t zip_len = zip.empty() ? 1 : zip[0].second.size();
  for (const auto& [k, v] : zip)
    if (v.size() != zip_len)
      throw InputError("zip." + k + ": " + std::to_string(v.size()) + " values, but zip." + zip[0].first + " has " +
                       std::to_string(zip_len));
  if (const Json* o = f.child("outputs")) {
    if (!o->is_array()) f.fail("outputs", "an array");
    for (std::size_t i = 0; i < o->size(); ++i) {
      const std::string p = "outputs[" + std::to_string(i) + "]";
      if (!(*o)[i].is_string()) throw InputError(p + ": expected a string");
      const std::string v = (*o)[i].get<std::string>();
      if (v != "summary" && v != "decisions" && v != "timeline" && v != "requests")
        throw InputError(p + ": expected one of summary, decisions, timeline, requests, got \"" + v + "\"");
      spec.outputs.push_back(v);
    }
  } else {
    spec.outputs = {"summary", "decisions"};
  }
  f.finish();
  spec.windows = metric_window_names(base);
  for (const auto& [k, v] : grid) spec.keys.push_back(k);
  for (const auto& [k, v] : zip) spec.keys.push_back(k);
  for (const auto& [k, v] : grid)
    for (const auto& [z, zv] : zip)
      if (k == z) throw InputError("zip." + k + ": the key is also in grid; a key is varied one way");
  // Counted with a check at every factor: a product of list lengths can wrap size_t.
  std::size_t points = zip_len;
  for (const auto& [k, v] : grid) {
    if (points > kMaxSweepPoints && !force) break;
    points = v.size() > std::numeric_limits<std::size_t>::max() / std::max<std::size_t>(points, 1)
                 ? std::numeric_limits<std::size_t>::max()
                 : points * v.size();
  }
  if (points > kMaxSweepPoints && !force)
    throw InputError(
        origin + ": the grid and zip make " +
        (points == std::numeric_limits<std::size_t>::max() ? std::string("more than 2^64") : std::to_string(points)) +
        " runs, past the limit of " + std::to_string(kMaxSweepPoints) +
        " (give --force for a sweep that big, or plan a search instead)");
  const std::size_t combos = points / zip_len;
  for (std::size_t c = 0; c < combos; ++c)
    for (std::size_t z = 0; z < zip_len; ++z) {
      SweepRun run;
      std::size_t rest = c;
      std::vector<std::pair<std::string, Json>> gv(grid.size());
      for (std::size_t g = grid.size(); g-- > 0;) {
        gv[g] = {grid[g].first, grid[g].second[rest % grid[g].second.size()]};
        rest /= grid[g].second.size();
      }
      run.values = gv;
      for (const auto& [k, v] : zip) run.values.emplace_back(k, v[z]);
      run.scenario = with_values(base, run.values);
      spec.runs.push_back(std::move(run));
    }
  return spec;
}

namespace {
// The kunsim that produced a row: version and git describe, one CSV cell.
std::string kunsim_describe() { return csv_cell(Json(std::string(kunsim_version()) + " " + kunsim_git_describe())); }
}  // namespace

std::string sweep_csv_header(const SweepSpec& spec) {
  std::string h = "run";
  for (const auto& k : spec.keys) {
    h += ',';
    h += csv_cell(k);
  }
  h += ",arrived,completed,rejected,unfinished,aborted,ttft_p50_s,ttft_p99_s,tpot_mean_s,tpot_p99_s,e2e_p99_s,queue_"
       "p99_s,"
       "output_tokens_per_s,input_tokens_per_s,total_tokens_per_s,requests_per_s,slo_attainment,preemptions,drops,"
       "restores,migrations,simulated_s";
  for (const std::string& w : spec.windows)
    for (const char* c : kWindowColumns) h.append(",").append(csv_cell(w + "." + c));
  return h + ",status,kunsim";
}

std::string sweep_csv_text(const SweepSpec& spec, const std::vector<SweepRow>& rows) {
  std::string csv = sweep_csv_header(spec) + "\n";
  for (const SweepRow& row : rows) csv += row.csv + "\n";
  return csv;
}

std::string sweep_csv_infeasible_row(const SweepSpec& spec, std::size_t index, const std::string& reason) {
  std::string row = std::to_string(index);
  for (const auto& [k, v] : spec.runs[index].values) row.append(",").append(csv_cell(v));
  row.append(21 + spec.windows.size() * std::size(kWindowColumns), ',');  // the metrics, empty
  return row + "," + csv_cell(Json(std::string("infeasible: ").append(reason))) + "," + kunsim_describe();
}

std::string sweep_csv_row(const SweepSpec& spec, std::size_t index, const Json& s) {
  const SweepRun& run = spec.runs[index];
  std::vector<std::string> cells{std::to_string(index)};
  for (const auto& [k, v] : run.values) cells.push_back(csv_cell(v));
  const auto& q = s["requests"];
  for (const char* k : {"arrived", "completed", "rejected", "unfinished", "aborted"}) cells.push_back(q[k].dump());
  for (const Json* x :
       {&s["ttft_s"]["p50"], &s["ttft_s"]["p99"], &s["tpot_s"]["mean"], &s["tpot_s"]["p99"], &s["e2e_s"]["p99"],
        &s["queue_s"]["p99"], &s["throughput"]["output_tokens_per_s"], &s["throughput"]["input_tokens_per_s"],
        &s["throughput"]["total_tokens_per_s"], &s["throughput"]["requests_per_s"], &s["slo"]["attainment"]})
    cells.push_back(fmt(*x));
  const auto& p = s["planner"];
  for (const char* k : {"preemptions", "drops", "restores", "migrations"}) cells.push_back(p.value(k, Json(0)).dump());
  cells.push_back(fmt(s["sim"]["simulated_s"]));
  for (const std::string& w : spec.windows) {
    const Json* m = s.contains("windows") && s["windows"].contains(w) ? &s["windows"][w] : nullptr;
    for (const char* c : kWindowColumns) cells.push_back(m ? window_cell(*m, c) : "");
  }
  cells.push_back("ok");
  cells.push_back(kunsim_describe());
  std::string row;
  for (const auto& c : cells) {
    if (!row.empty()) row.push_back(',');
    row.append(c);
  }
  return row;
}

std::string SweepRow::packed() const {
  return Json{{"index", index}, {"ok", status == SweepStatus::Ok}, {"reason", reason}, {"csv", csv}, {"grown", grown}}
      .dump();
}

SweepRow SweepRow::unpacked(const std::string& line) {
  const Json j = Json::parse(line);
  return {j["index"].get<std::size_t>(), j["ok"].get<bool>() ? SweepStatus::Ok : SweepStatus::Infeasible,
          j["reason"].get<std::string>(), j["csv"].get<std::string>(), j["grown"].get<std::string>()};
}

std::vector<SweepRow> run_sweep(const SweepSpec& spec, const SweepOptions& opt) {
  // Validate every run first. A point that cannot run (a deployment that does not fit, an
  // impossible setting) is recorded in sweep.csv with its reason and the sweep goes on.
  const TracePaths paths = trace_paths(opt.trace_dir, spec.base_dir);
  std::vector<std::size_t> mine;
  for (std::size_t i = 0; i < spec.runs.size(); ++i)
    if (static_cast<int>(i % opt.ranks) == opt.rank) mine.push_back(i);
  std::vector<Scenario> scenarios(spec.runs.size());
  std::vector<SweepRow> rows(spec.runs.size());
  std::vector<std::string> grown(spec.runs.size());  // the nodes a point added
  std::vector<std::size_t> feasible;
  for (std::size_t i : mine) {
    try {
      // Instances outgrowing the cluster add nodes, as in plan (one placement rule).
      GrownScenario g = scenario_adding_nodes(spec.runs[i].scenario, paths);
      scenarios[i] = std::move(g.scenario);
      for (const std::string& a : g.added) grown[i] += (grown[i].empty() ? "" : ", ") + a;
      feasible.push_back(i);
    } catch (const InputError& e) {
      rows[i] = {i, SweepStatus::Infeasible, e.what(), sweep_csv_infeasible_row(spec, i, e.what()), ""};
    }
  }
  auto has = [&](const char* o) { return std::find(spec.outputs.begin(), spec.outputs.end(), o) != spec.outputs.end(); };
  std::atomic<std::size_t> next{0}, done{0};
  std::mutex error_mu;
  std::string error;
  auto worker = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < feasible.size();) {
      const std::size_t i = feasible[k];
      if (interrupt_requested()) {  // the remaining points are not started
        ++done;
        continue;
      }
      try {
        char dir[32];
        std::snprintf(dir, sizeof dir, "run-%05zu", i);
        const std::string out = (fs::path(opt.out_dir) / dir).string();
        const bool files = has("decisions") || has("timeline") || has("requests") || has("summary");
        if (files) fs::create_directories(out);
        RunOptions ro;
        ro.out_dir = files ? out : "";
        ro.wall_clock = false;  // sweep outputs are identical for any -j
        ro.requests_csv = has("requests");
        ro.timeline_csv = has("timeline");
        ro.decisions_jsonl = has("decisions");
        ro.force = opt.force;
        Json summary = Simulation(scenarios[i], ro).run();
        if (has("summary")) std::ofstream(fs::path(out) / "summary.json") << json_file_text(summary);
        rows[i] = {i, SweepStatus::Ok, "", sweep_csv_row(spec, i, summary), grown[i]};
      } catch (const InputError& e) {
        // Found only once the point runs (a bad trace row, no arrival before max_time_s, a
        // limit): the point could not run, like one refused up front; the sweep goes on.
        rows[i] = {i, SweepStatus::Infeasible, e.what(), sweep_csv_infeasible_row(spec, i, e.what()), ""};
      } catch (const Interrupted&) {
        // The signal stays recorded; the sweep rethrows it once every worker is back.
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (error.empty()) error = "run " + std::to_string(i) + ": " + e.what();
      }
      ++done;
    }
  };
  done = mine.size() - feasible.size();
  const int n = std::max(1, std::min<int>(opt.threads, static_cast<int>(feasible.size())));
  const bool tty = isatty(2);
  std::size_t shown = 0;
  // Under MPI every rank keeps its count of finished runs in a file of the output folder, and
  // rank 0's bar adds them up, so it counts the whole sweep (the files are removed at the end).
  const std::size_t total = opt.ranks > 1 ? spec.runs.size() : mine.size();
  auto progress_file = [&](int rank) { return fs::path(opt.out_dir) / (".progress-" + std::to_string(rank)); };
  auto publish = [&] {
    if (opt.ranks <= 1 || opt.out_dir.empty()) return;
    const fs::path tmp = progress_file(opt.rank).string() + ".tmp";
    std::ofstream(tmp) << done.load() << "\n";
    std::error_code ec;
    fs::rename(tmp, progress_file(opt.rank), ec);
  };
  auto whole = [&] {
    std::size_t d = done.load();
    for (int r = 1; r < opt.ranks && opt.rank == 0; ++r) {
      std::size_t n = 0;
      if (std::ifstream in(progress_file(r)); in >> n) d += n;
    }
    return d;
  };
  auto progress = [&] {
    publish();
    if (opt.rank != 0) return;
    const std::size_t d = std::min(whole(), total);
    if (tty) {
      const int w = 40, fill = static_cast<int>(w * d / std::max<std::size_t>(1, total));
      std::fprintf(stderr, "\rsweep %s: [%s%s] %zu/%zu", spec.name.c_str(), std::string(fill, '#').c_str(),
                   std::string(w - fill, '.').c_str(), d, total);
    } else if (d * 10 / std::max<std::size_t>(1, total) > shown) {
      shown = d * 10 / std::max<std::size_t>(1, total);
      std::fprintf(stderr, "sweep %s: %zu/%zu runs\n", spec.name.c_str(), d, total);
    }
  };
  run_interruptible_workers(n, worker, opt.progress ? std::function<void()>(progress) : std::function<void()>());
  throw_if_interrupted();
  publish();
  if (opt.progress && tty && opt.rank == 0)
    std::fprintf(stderr, "\rsweep %s: %zu/%zu runs done%*s\n", spec.name.c_str(), std::min(whole(), total), total, 30, "");
  if (!error.empty()) throw std::runtime_error(error);
  std::vector<SweepRow> out;
  for (std::size_t i : mine) out.push_back(rows[i]);
  return out;
}

}  // namespace kunsim
