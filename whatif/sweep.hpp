// Sweep: many runs of one base scenario with some keys varied, the what-if workhorse.
// SWEEP.json: {"name", "base": scenario path (relative to the sweep file) or inline object,
//              "grid": {key: [values]} (cartesian product), "zip": {key: [values]} (lists of
//              equal length, advanced together), "outputs": ["summary","decisions","timeline",
//              "requests"]}.
// Every run is validated before any starts; instances outgrowing the cluster add nodes as in
// plan (run/cluster_growth.hpp); a point that still cannot run is a sweep.csv row whose status
// says why ("infeasible: ..."), and the others run. Runs go to N threads (or MPI ranks); results are
// put in run order, so sweep.csv is identical for any -j and any rank count.
#pragma once
#include <string>
#include <vector>

#include "run/scenario.hpp"

namespace kunsim {

struct SweepRun {
  std::vector<std::pair<std::string, Json>> values;  // the swept keys' values
  Json scenario;                                      // base with those values applied
};

struct SweepSpec {
  std::string name;
  std::vector<std::string> keys;  // column order: grid keys, then zip keys
  std::vector<SweepRun> runs;
  std::vector<std::string> outputs;
  std::string base_dir;           // where relative trace paths of the base resolve
  // The base scenario's metric windows (run/metric_windows.hpp): each gets sweep.csv columns
  // (<name>.ttft_p99_s, ...), empty for a point whose run has no such window.
  std::vector<std::string> windows;
};

// A sweep of more than this many runs is refused unless `force` (each point is held in memory
// from the start, and 10,000 runs is hours even of small scenarios).
inline constexpr std::size_t kMaxSweepPoints = 10'000;
SweepSpec load_sweep(const std::string& path, bool force = false);
// The same from JSON already read (the Python module's dicts): `origin` names it in errors,
// `default_name` is the name when it gives none, and a base given as a path resolves against `dir`.
SweepSpec sweep_from_json(const Json& root, const std::string& origin, const std::string& default_name,
                          const std::string& dir, bool force = false);

// One sweep.csv row (without the trailing newline) from a run's values and summary.
std::string sweep_csv_header(const SweepSpec& spec);
std::string sweep_csv_row(const SweepSpec& spec, std::size_t index, const Json& summary);
// The row of a point that could not run: its values, empty metrics, and the reason.
std::string sweep_csv_infeasible_row(const SweepSpec& spec, std::size_t index, const std::string& reason);

// One point's outcome: it ran (its metrics in `csv`), or it could not run (`reason`: a
// deployment that does not fit, an impossible setting; `csv` holds its values and the reason).
enum class SweepStatus { Ok, Infeasible };
struct SweepRow {
  std::size_t index = 0;
  SweepStatus status = SweepStatus::Ok;
  std::string reason;  // why it could not run (Infeasible only)
  std::string csv;     // its sweep.csv row, without the newline
  // The nodes it added to fit its instances (run/cluster_growth.hpp), "cluster.nodes 1 -> 13";
  // empty when the cluster held them.
  std::string grown;
  // One line of text and back, to cross MPI ranks.
  std::string packed() const;
  static SweepRow unpacked(const std::string& line);
};

// sweep.csv whole: the header, then `rows` (all of the sweep's, in run order).
std::string sweep_csv_text(const SweepSpec& spec, const std::vector<SweepRow>& rows);

struct SweepOptions {
  int threads = 1;
  std::string out_dir;
  std::string trace_dir;
  bool progress = true;
  bool force = false;       // lift the run limits (run/run_limits.hpp) in every point
  int rank = 0, ranks = 1;  // this process runs the indices i with i % ranks == rank
};

// Runs this process's share; returns each of those runs' rows, by index.
std::vector<SweepRow> run_sweep(const SweepSpec& spec, const SweepOptions& opt);

}  // namespace kunsim
