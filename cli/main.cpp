// kunsim: the command line. Subcommands map one to one onto the contracts of DESIGN.md; every
// user error surfaces as an InputError and exit code 2 with one line naming the field or line.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "compare_profiles.hpp"
#include "mpi_sweep.hpp"
#include "output_folder.hpp"
#include "whatif/plan.hpp"
#include "report.hpp"
#include "run/key_survey.hpp"
#include "run/scenario.hpp"
#include "run/simulation.hpp"
#include "sim/cluster/gpu_spec.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/version.hpp"
#include "sim/cost/aiconfigurator_import.hpp"
#include "sim/cost/cost_choice.hpp"
#include "sim/cost/fit_report.hpp"
#include "sim/metrics/decision_diff.hpp"
#include "sim/policy/policy_registry.hpp"
#include "sim/serving/dispatch/dispatcher.hpp"
#include "whatif/sweep.hpp"
#include "traces/trace_format_registry.hpp"
#include "traces/workload_profile.hpp"

namespace fs = std::filesystem;
using namespace kunsim;

namespace {

void write_text(const fs::path& path, const std::string& text) { write_file_atomic(path, text); }

std::string fmt(double x, const char* f = "%.3f") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

void print_run(const Json& s, const std::string& out_dir) {
  const auto& r = s["requests"];
  std::printf("kunsim: %s  policy=%s  model=%s\n", s["scenario"].get<std::string>().c_str(),
              s["policy"].get<std::string>().c_str(), s["model"].get<std::string>().c_str());
  std::printf("  requests  arrived %lld  completed %lld  rejected %lld  unfinished %lld  aborted %lld\n",
              r["arrived"].get<long long>(), r["completed"].get<long long>(), r["rejected"].get<long long>(),
              r["unfinished"].get<long long>(), r["aborted"].get<long long>());
  for (const char* k : {"ttft_s", "tpot_s", "e2e_s", "queue_s"}) {
    const auto& d = s[k];
    std::printf("  %-8s  mean %s  p50 %s  p90 %s  p99 %s  max %s\n", k, fmt(d["mean"]).c_str(), fmt(d["p50"]).c_str(),
                fmt(d["p90"]).c_str(), fmt(d["p99"]).c_str(), fmt(d["max"]).c_str());
  }
  std::printf("  slo       ttft<=%ss tpot<=%ss  attainment %s\n", fmt(s["slo"]["ttft_s"], "%g").c_str(),
              fmt(s["slo"]["tpot_s"], "%g").c_str(), fmt(s["slo"]["attainment"], "%.4f").c_str());
  std::printf("  throughput %s tokens/s  %s requests/s\n", fmt(s["throughput"]["tokens_per_s"], "%.1f").c_str(),
              fmt(s["throughput"]["requests_per_s"], "%.2f").c_str());
  std::printf("  planner   preemptions %lld  swaps_out %lld  drops %lld  restores %lld\n",
              s["planner"]["preemptions"].get<long long>(), s["planner"]["swaps_out"].get<long long>(),
              s["planner"]["drops"].get<long long>(), s["planner"]["restores"].get<long long>());
  // Only where something was cached: a workload without prefix identity prints as it did.
  if (const auto& pc = s["prefix_cache"]; pc["hit_tokens"].get<long long>() > 0)
    std::printf("  prefix    hit %s of prompt tokens (%lld of %lld)  evicted %lld blocks\n",
                fmt(pc["hit_rate"], "%.4f").c_str(), pc["hit_tokens"].get<long long>(),
                pc["prompt_tokens"].get<long long>(), pc["evicted_blocks"].get<long long>());
  if (s.contains("groups")) {
    // A fleet: each instance group with what prices it.
    for (const auto& g : s["groups"])
      std::printf("  group     %s: %lld x %s tp=%lld %s, %lld KV blocks each; costs: %s\n",
                  g["name"].get<std::string>().c_str(), g["count"].get<long long>(), g["gpu"].get<std::string>().c_str(),
                  g["tp"].get<long long>(), g["role"].get<std::string>().c_str(), g["blocks_per_instance"].get<long long>(),
                  g["cost_source"].get<std::string>().c_str());
    if (s.contains("fleet_dollars_per_hour"))
      std::printf("  fleet     $%s per hour\n", fmt(s["fleet_dollars_per_hour"], "%.2f").c_str());
  } else if (s.contains("cost_source")) {
    std::printf("  costs     %s\n", s["cost_source"].get<std::string>().c_str());
  }
  if (s.contains("handoff")) {
    const auto& h = s["handoff"];
    std::printf("  handoff   %lld prefill->decode (%s GiB)  waited for room %lld  transfer p50 %s p99 %s s  wait p99 %s s\n",
                h["handoffs"].get<long long>(), fmt(h["gib_moved"], "%.1f").c_str(), h["waited_for_room"].get<long long>(),
                fmt(h["transfer_s"]["p50"], "%.4f").c_str(), fmt(h["transfer_s"]["p99"], "%.4f").c_str(),
                fmt(h["wait_s"]["p99"], "%.3f").c_str());
  }
  if (s["workload"].value("clipped_samples", 0LL) > 0)
    std::printf("  workload  %lld synthetic lengths were cut to their distribution's max (workload.*_tokens.max)\n",
                s["workload"]["clipped_samples"].get<long long>());
  const auto& m = s["sim"];
  std::printf("  sim       %s simulated s in %s wall s  (%s requests/wall s, real-time factor %s)\n",
              fmt(m["simulated_s"], "%.1f").c_str(), fmt(m["wall_s"], "%.3f").c_str(),
              fmt(m["requests_per_wall_s"], "%.0f").c_str(), fmt(m["realtime_factor"], "%.0f").c_str());
  if (!out_dir.empty()) std::printf("  outputs   %s/\n", out_dir.c_str());
}

int run_sweep_command(const std::string& file, int jobs, std::string out_dir, const std::string& trace_dir, bool quiet,
                      bool overwrite, const SweepRanks& ranks) {
  const SweepSpec spec = load_sweep(file);
  if (out_dir.empty()) out_dir = (fs::path("out") / spec.name).string();
  // Rank 0 prepares the folder; every rank writes its runs into it; rank 0 commits once all
  // rows are gathered (every rank has finished).
  OutputFolder folder(out_dir, overwrite, ranks.rank == 0);
  mpi_barrier(ranks);
  SweepOptions opt;
  opt.threads = jobs;
  opt.out_dir = folder.path().string();
  opt.trace_dir = trace_dir;
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
  std::string csv = sweep_csv_header(spec) + "\n";
  std::size_t ran = 0;
  std::string first_reason;
  for (const auto& [i, packed] : gathered) {
    const SweepRow row = SweepRow::unpacked(packed);
    csv += row.csv + "\n";
    if (row.status == SweepStatus::Ok) ++ran;
    else if (first_reason.empty()) first_reason = "run " + std::to_string(i) + ": infeasible: " + row.reason;
  }
  const std::size_t total = gathered.size();
  // Exit 2 only when no point could run (then the folder is left as it was).
  if (ran == 0) throw InputError("sweep " + spec.name + ": no point could run; " + first_reason);
  write_text(folder.path() / "sweep.csv", csv);
  for (int r = 0; r < ranks.size; ++r) fs::remove(folder.path() / (".progress-" + std::to_string(r)));
  folder.commit();
  if (!quiet)
    std::printf("sweep %s: %zu runs (%zu infeasible, recorded with their reasons), %s/sweep.csv\n", spec.name.c_str(),
                total, total - ran, out_dir.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kunsim: discrete-event simulator of LLM-serving GPU clusters"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("kunsim ") + kunsim_version() + " (" + kunsim_git_describe() + ")");

  std::string scenario_file, out_dir, trace_dir;
  std::vector<std::string> sets;
  bool quiet = false, no_wall = false;
  auto* run = app.add_subcommand("run", "Run a scenario (default: the embedded scenarios/default.json)");
  run->add_option("scenario", scenario_file, "Scenario JSON file");
  run->add_option("--out", out_dir, "Output folder (default out/<scenario name>)");
  run->add_option("--set", sets, "Override a scenario key: --set deployment.instances=8")->take_all();
  run->add_option("--trace-dir", trace_dir, "Folder that relative trace paths resolve against");
  run->add_flag("--quiet", quiet, "Print nothing on success");
  run->add_flag("--no-wall-clock", no_wall, "Write 0 for wall-time figures, so summary.json is byte-identical");
  bool perfetto = false, overwrite = false;
  run->add_flag("--perfetto", perfetto, "Also write trace.json (Chrome trace format; open in ui.perfetto.dev)");
  const char* const overwrite_help = "Replace a non-empty --out folder that kunsim did not write";
  run->add_flag("--overwrite", overwrite, overwrite_help);

  auto* validate = app.add_subcommand("validate", "Check a scenario without running it");
  validate->add_option("scenario", scenario_file, "Scenario JSON file")->required();
  validate->add_option("--set", sets, "Override a scenario key")->take_all();
  validate->add_option("--trace-dir", trace_dir, "Folder that relative trace paths resolve against");

  app.add_subcommand("models", "List the model catalogue");
  app.add_subcommand("policies", "List the memory-overload policies");
  std::string list_what;
  auto* list = app.add_subcommand("list", "List what can be named in a scenario: each registry's entries and help");
  list->add_option("what", list_what,
                   "policies, dispatchers, trace-formats, cost-models, gpus, or params (every scenario key: "
                   "type, default, range, when it is read, help; tab-separated)")
      ->required()
      ->check(CLI::IsMember({"policies", "dispatchers", "trace-formats", "cost-models", "gpus", "params"}));

  std::string trace_file, trace_format, profile_out;
  double window_s = 60;
  auto* stats = app.add_subcommand("trace-stats", "Summarise a trace as a workload profile (JSON on stdout)");
  stats->add_option("trace", trace_file, "Trace file")->required();
  stats->add_option("--format", trace_format, "Trace format (default: detected from the header)");
  stats->add_option("--window-s", window_s, "Window for rate and burstiness, seconds")->check(CLI::PositiveNumber);
  stats->add_option("--out", profile_out, "Write the profile here instead of stdout");

  std::string sweep_file;
  int jobs = 1;
  auto* sweep = app.add_subcommand("sweep", "Run a base scenario over lists of values (sweep.csv, one folder per run)");
  sweep->add_option("sweep", sweep_file, "Sweep JSON file")->required();
  sweep->add_option("-j,--jobs", jobs, "Runs in parallel")->check(CLI::Range(1, 1024));
  sweep->add_option("--out", out_dir, "Output folder (default out/<sweep name>)");
  sweep->add_option("--trace-dir", trace_dir, "Folder that relative trace paths resolve against");
  sweep->add_flag("--quiet", quiet, "No progress bar");
  sweep->add_flag("--overwrite", overwrite, overwrite_help);

  PlanOptions plan_opt;
  std::string policies_csv;
  auto* plan = app.add_subcommand("plan", "Capacity search: fewest instances or highest rate meeting the SLO target");
  plan->add_option("scenario", scenario_file, "Scenario JSON file (default: the embedded default)");
  plan->add_option("--target", plan_opt.target,
                   "What to meet: SLO attainment (0.99), or ttft.p99<=2, itl.p99<=0.1, tpot.mean<=0.05, goodput>=X, throughput>=X");
  plan->add_option("--vary", plan_opt.vary, "deployment.instances, deployment.groups.<name>.count or workload.rate_scale");
  plan->add_option("--policies", policies_csv, "Comma-separated policies (default: the scenario's)");
  plan->add_option("--min", plan_opt.min, "Lower end of the search");
  plan->add_option("--max", plan_opt.max, "Upper end of the search");
  plan->add_option("-j,--jobs", plan_opt.threads, "Policies searched in parallel")->check(CLI::Range(1, 1024));
  plan->add_option("--out", out_dir, "Folder for plan.json (default out/plan-<scenario name>)");
  plan->add_option("--set", sets, "Override a scenario key")->take_all();
  plan->add_option("--trace-dir", trace_dir, "Folder that relative trace paths resolve against");
  plan->add_flag("--overwrite", overwrite, overwrite_help);

  std::string report_dir, report_html;
  auto* report = app.add_subcommand("report", "HTML report with charts of a run, runs, a sweep or a plan");
  report->add_option("out_dir", report_dir, "A kunsim output folder")->required();
  report->add_option("--html", report_html, "Where to write the page (default OUT_DIR/report.html)");

  std::string profile_dir;
  auto* fit = app.add_subcommand("fit", "Fit the cost model to a measured profile; write fit-report.json");
  fit->add_option("profile_dir", profile_dir, "A profile folder: calibrate/profiles/<gpu>/<name>")->required();
  fit->add_option("--out", out_dir, "Folder for fit-report.json (default: the profile folder)");

  fit->add_option("--set", sets, "Roofline parameters to check against kernel tables: --set cost.gemm_latency_us=5")
      ->take_all();
  double max_mape = -1;
  fit->add_option("--max-mape", max_mape, "Exit 1 when any op family's held-out MAPE exceeds this many percent (e.g. 10)")
      ->check(CLI::Range(0.0, 1000.0));

  const auto compare_profiles = add_compare_profiles(app);

  AiconfiguratorImport aic;
  std::string import_out;
  auto* import_cmd = app.add_subcommand("import", "Make a kunsim profile from published measurements");
  import_cmd->require_subcommand(1);
  auto* import_aic = import_cmd->add_subcommand(
      "aiconfigurator", "NVIDIA aiconfigurator's vLLM kernel tables -> a kernel-table profile (format 2)");
  import_aic->add_option("dir", aic.dir, "The database folder (<dir>/<system>/..., <dir>/<system>.yaml)")->required();
  import_aic->add_option("--system", aic.system, "System, e.g. h100_sxm, h200_sxm, a100_sxm, b200_sxm")->required();
  import_aic->add_option("--framework", aic.framework, "Framework folder (default vllm)");
  import_aic->add_option("--version", aic.version, "Framework version (default: the only one present)");
  import_aic->add_option("--kernel-source", aic.kernel_source,
                         "Attention kernel_source (default: the most measured bf16 one, vLLM's default on that GPU)");
  import_aic->add_option("--gpu-kind", aic.gpu_kind, "kunsim GPU kind (default: from the system)");
  import_aic->add_option("--out", import_out, "Profile folder to write, e.g. calibrate/profiles/h100-sxm/aiconfigurator-vllm")
      ->required();

  std::string diff_a, diff_b;
  auto* diff = app.add_subcommand("diff", "First differing decision of two decisions.jsonl files (exit 1 if any)");
  diff->add_option("a", diff_a, "Expected decisions.jsonl")->required();
  diff->add_option("b", diff_b, "Actual decisions.jsonl")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  try {
    if (app.got_subcommand("models")) {
      std::printf("%-14s %6s %6s %5s %4s %6s %7s %10s %14s %8s\n", "name", "layers", "hidden", "heads", "kv", "ffn",
                  "vocab", "weights", "kv/token", "context");
      for (const auto& m : model_catalogue())
        std::printf("%-14s %6d %6d %5d %4d %6d %7d %7.2f GiB %12lld B %8d\n", m.name.c_str(), m.layers, m.hidden, m.heads,
                    m.kv_heads, m.ffn, m.vocab, static_cast<double>(m.total_weight_bytes()) / (1 << 30),
                    static_cast<long long>(m.kv_bytes_per_token()), m.max_model_len);
      return 0;
    }
    if (app.got_subcommand("compare-profiles")) return compare_profiles();
    if (app.got_subcommand("report"))
      return run_report(report_dir, report_html.empty() ? (fs::path(report_dir) / "report.html").string() : report_html);
    if (app.got_subcommand("import")) {
      const ImportedProfile p = import_aiconfigurator(aic);
      write_kernel_table_profile(import_out, p);
      std::printf("wrote %s: %s GEMM, %s prefill, %s decode, %s all-reduce rows (%s %s, %s)\n", import_out.c_str(),
                  p.meta["rows"]["gemm"].dump().c_str(), p.meta["rows"]["attn_prefill"].dump().c_str(),
                  p.meta["rows"]["attn_decode"].dump().c_str(), p.meta["rows"]["allreduce"].dump().c_str(),
                  p.meta["framework_label"].get<std::string>().c_str(),
                  p.meta["framework_version"].get<std::string>().c_str(), p.meta["gpu"].get<std::string>().c_str());
      return 0;
    }
    if (app.got_subcommand("fit")) {
      Json cost_json = Json::object();
      for (const auto& a : sets) apply_override(cost_json, a);
      if (!cost_json.is_object() || cost_json.size() > 1 || (cost_json.size() == 1 && !cost_json.contains("cost")))
        throw InputError("--set: kunsim fit takes cost.* keys only");
      const Json* cj = cost_json.contains("cost") ? &cost_json["cost"] : nullptr;
      const Json report = fit_report(load_profile(profile_dir), cost_spec_from_json(cj, "cost").roofline);
      if (out_dir.empty()) out_dir = profile_dir;
      fs::create_directories(out_dir);
      write_text(fs::path(out_dir) / "fit-report.json", report.dump(2) + "\n");
      for (auto it = report["ops"].begin(); it != report["ops"].end(); ++it)
        std::printf("%-14s held-out MAPE %6.2f%%  (%lld points)\n", it.key().c_str(),
                    100 * it.value()["heldout_mape"].get<double>(), it.value()["points"].get<long long>());
      for (const auto& [key, what] : {std::pair{"iteration_check", "iteration check"},
                                       std::pair{"mixed_attention_check", "mixed-batch attention check"}}) {
        if (!report.contains(key)) continue;
        const auto& c = report[key];
        std::printf("%s: median %.2f%%, p95 %.2f%% over %lld batches\n", what, 100 * c["median_ape"].get<double>(),
                    100 * c["p95_ape"].get<double>(), c["points"].get<long long>());
      }
      if (report.contains("note")) std::printf("%s\n", report["note"].get<std::string>().c_str());
      std::printf("wrote %s/fit-report.json\n", out_dir.c_str());
      if (max_mape >= 0)
        for (auto it = report["ops"].begin(); it != report["ops"].end(); ++it)
          if (100 * it.value()["heldout_mape"].get<double>() > max_mape) {
            std::fprintf(stderr, "kunsim fit: %s held-out MAPE %.2f%% exceeds --max-mape %.2f%%\n", it.key().c_str(),
                         100 * it.value()["heldout_mape"].get<double>(), max_mape);
            return 1;
          }
      return 0;
    }
    if (app.got_subcommand("diff")) {
      const DecisionDiffResult r = diff_decisions(diff_a, diff_b);
      std::fputs(r.report.c_str(), stdout);
      return r.same ? 0 : 1;
    }
    if (app.got_subcommand("policies") || app.got_subcommand("list")) {
      const std::string what = app.got_subcommand("list") ? list_what : "policies";
      auto print = [](const auto& registry) {
        for (const auto& [name, e] : registry.items()) std::printf("%-14s %s\n", name.c_str(), e.help.c_str());
      };
      if (what == "params") {
        std::fputs(key_listing(survey_scenario_keys()).c_str(), stdout);
        return 0;
      }
      if (what == "policies") print(policy_registry());
      else if (what == "dispatchers") print(dispatcher_registry());
      else if (what == "trace-formats") print(trace_formats());
      else if (what == "cost-models") print(cost_model_registry());
      else  // gpus: the kind, its aiconfigurator system (or -), its datasheet line
        for (const auto& [name, e] : gpu_registry().items())
          std::printf("%-14s %-10s %s\n", name.c_str(),
                      e.entry.aiconfigurator_system.empty() ? "-" : e.entry.aiconfigurator_system.c_str(), e.help.c_str());
      return 0;
    }
    if (app.got_subcommand("trace-stats")) {
      const std::string fmt_name = trace_format.empty() ? detect_trace_format(trace_file) : trace_format;
      auto src = open_trace(fmt_name, trace_file, "--format");
      const WorkloadProfile p = compute_profile(*src, window_s, fs::path(trace_file).filename().string());
      const std::string text = p.to_json().dump(1) + "\n";
      if (profile_out.empty()) std::fputs(text.c_str(), stdout);
      else write_text(profile_out, text);
      return 0;
    }
    if (app.got_subcommand("sweep")) {
      const SweepRanks ranks = mpi_start(&argc, &argv);
      int rc = 0;
      try {
        rc = run_sweep_command(sweep_file, jobs, out_dir, trace_dir, quiet, overwrite, ranks);
      } catch (...) {
        mpi_stop();
        throw;
      }
      mpi_stop();
      return rc;
    }
    if (app.got_subcommand("plan")) {
      for (std::size_t a = 0, b; a <= policies_csv.size() && !policies_csv.empty(); a = b + 1) {
        b = policies_csv.find(',', a);
        if (b == std::string::npos) b = policies_csv.size();
        if (b > a) plan_opt.policies.push_back(policies_csv.substr(a, b - a));
      }
      plan_opt.trace_dir = trace_dir;
      const Json p = run_plan(scenario_file, sets, plan_opt);
      if (out_dir.empty()) out_dir = (fs::path("out") / ("plan-" + p["scenario"].get<std::string>())).string();
      OutputFolder folder(out_dir, overwrite);
      write_text(folder.path() / "plan.json", p.dump(2) + "\n");
      folder.commit();
      std::fputs(plan_table(p).c_str(), stdout);
      std::printf("wrote %s/plan.json\n", out_dir.c_str());
      return 0;
    }
    const Scenario sc = load_scenario(scenario_file, sets, trace_dir);
    if (app.got_subcommand("validate")) {
      check_workload(sc.workload, Rng(sc.seed).fork(0xA11));
      if (sc.deployment.groups.size() == 1) {
        std::printf("%s: ok (%s, %d x %s tp=%d, %lld KV blocks per instance, policy %s, %s; costs: %s)\n",
                    scenario_file.c_str(), sc.name.c_str(), sc.instances, sc.model.name.c_str(), sc.engine.tp,
                    static_cast<long long>(sc.memory.num_blocks), sc.policy_name.c_str(), sc.workload.describe().c_str(),
                    sc.cost_source.c_str());
        return 0;
      }
      std::printf("%s: ok (%s, %s, policy %s, %s)\n", scenario_file.c_str(), sc.name.c_str(), sc.model.name.c_str(),
                  sc.policy_name.c_str(), sc.workload.describe().c_str());
      for (const DeploymentGroup& g : sc.deployment.groups)
        std::printf("  %s: %d x %s tp=%d %s, %lld KV blocks per instance; costs: %s\n", g.name.c_str(), g.count,
                    g.hardware.gpu.name.c_str(), g.engine.tp, instance_role_name(g.role),
                    static_cast<long long>(g.memory.num_blocks), g.cost_source.c_str());
      return 0;
    }
    if (out_dir.empty()) out_dir = (fs::path("out") / sc.name).string();
    OutputFolder folder(out_dir, overwrite);
    Json summary;
    {
      RunOptions ro;
      ro.out_dir = folder.path().string();
      ro.wall_clock = !no_wall;
      ro.perfetto = perfetto;
      Simulation sim(sc, ro);
      summary = sim.run();
    }
    write_text(folder.path() / "summary.json", summary.dump(2) + "\n");
    write_text(folder.path() / "scenario.json", sc.resolved.dump(2) + "\n");
    folder.commit();
    if (!quiet) print_run(summary, out_dir);
    return 0;
  } catch (const InputError& e) {
    std::fprintf(stderr, "kunsim: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kunsim: internal error: %s\n", e.what());
    return 1;
  }
}
