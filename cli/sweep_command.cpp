// `kunsim sweep SWEEP.json`: a base scenario over lists of values (whatif/sweep.hpp), on
// threads or MPI ranks, into sweep.csv and one folder per run.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "mpi_sweep.hpp"
#include "sim/core/output_folder.hpp"
#include "whatif/sweep.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

struct SweepArgs {
  std::string sweep, out, trace_dir;
  int jobs = 1;
  bool quiet = false, overwrite = false, force = false;
};

int run_sweep_command(const SweepArgs& a, const SweepRanks& ranks) {
  const SweepSpec spec = load_sweep(a.sweep, a.force);
  const bool quiet = a.quiet;
  std::string out_dir = a.out;
  if (out_dir.empty()) out_dir = (fs::path("out") / spec.name).string();
  // Rank 0 prepares the folder; every rank writes its runs into it; rank 0 commits once all
  // rows are gathered (every rank has finished).
  OutputFolder folder(out_dir, OutputRules{.overwrite = a.overwrite, .inputs = {a.sweep, spec.base_dir}},
                      ranks.rank == 0);
  mpi_barrier(ranks);
  SweepOptions opt;
  opt.threads = a.jobs;
  opt.out_dir = folder.path().string();
  opt.trace_dir = a.trace_dir;
  opt.force = a.force;
  opt.progress = !quiet;  // every rank counts; rank 0 shows the whole sweep
  opt.rank = ranks.rank;
  opt.ranks = ranks.size;
  std::vector<std::pair<std::size_t, std::string>> mine;  // (index, packed row): what crosses ranks
  std::string error;
  try {
    for (const SweepRow& row : run_sweep(spec, opt)) mine.emplace_back(row.index, row.packed());
  } catch (const std::exception& e) {
    if (ranks.size == 1) throw;
    error = e.what();
  }
  const auto gathered = mpi_gather_rows(mine, ranks, error);
  if (!error.empty()) throw InputError(error);
  if (ranks.rank != 0) return 0;
  std::vector<SweepRow> rows;
  std::size_t ran = 0, grown = 0;
  std::string first_reason, first_grown;
  for (const auto& [i, packed] : gathered) {
    const SweepRow& row = rows.emplace_back(SweepRow::unpacked(packed));
    if (!row.grown.empty() && grown++ == 0) first_grown = "run " + std::to_string(i) + ": " + row.grown;
    if (row.status == SweepStatus::Ok)
      ++ran;
    else if (first_reason.empty())
      first_reason = "run " + std::to_string(i) + ": infeasible: " + row.reason;
  }
  const std::size_t total = gathered.size();
  // Exit 2 only when no point could run (then the folder is left as it was).
  if (ran == 0) throw InputError("sweep " + spec.name + ": no point could run; " + first_reason);
  write_text(folder.path() / "sweep.csv", sweep_csv_text(spec, rows));
  for (int r = 0; r < ranks.size; ++r) fs::remove(folder.path() / (".progress-" + std::to_string(r)));
  folder.commit();
  if (!quiet)
    std::printf("sweep %s: %zu runs (%zu infeasible, recorded with their reasons), %s/sweep.csv\n", spec.name.c_str(),
                total, total - ran, out_dir.c_str());
  if (!quiet && grown > 0)
    std::printf("sweep %s: %zu runs added nodes to place their instances, as plan does (%s%s)\n", spec.name.c_str(),
                grown, first_grown.c_str(), grown > 1 ? ", ..." : "");
  return 0;
}

}  // namespace

CommandRunner add_sweep_command(CLI::App& app) {
  auto a = std::make_shared<SweepArgs>();
  auto* sweep = app.add_subcommand("sweep", "Run a base scenario over lists of values (sweep.csv, one folder per run)");
  sweep->add_option("sweep", a->sweep, "Sweep JSON file")->required();
  sweep->add_option("-j,--jobs", a->jobs, "Runs in parallel")->check(CLI::Range(1, 1024));
  sweep->add_option("--out", a->out, "Output folder (default out/<sweep name>)")->check(kOutputPath);
  sweep->add_option("--trace-dir", a->trace_dir, "Folder that relative trace paths resolve against");
  sweep->add_flag("--quiet", a->quiet, "No progress bar");
  sweep->add_flag("--overwrite", a->overwrite, kOverwriteHelp);
  sweep->add_flag("--force", a->force, kForceHelp);
  return [a](const CommandContext& ctx) {
    const SweepRanks ranks = mpi_start(ctx.argc, ctx.argv);
    int rc = 0;
    try {
      rc = run_sweep_command(*a, ranks);
    } catch (...) {
      mpi_stop();
      throw;
    }
    mpi_stop();
    return rc;
  };
}

}  // namespace kunsim
