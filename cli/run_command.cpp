// `kunsim run [SCENARIO]`: one run into an output folder, and its summary on the console.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.hpp"
#include "run/scenario.hpp"
#include "run/simulation.hpp"
#include "sim/core/output_folder.hpp"

namespace kunsim {
namespace {

namespace fs = std::filesystem;

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
  if (s.contains("windows"))
    for (const auto& [name, w] : s["windows"].items()) {
      const double start = w["start_s"].get<double>();
      std::printf(
          "  window    %s [%g, %g) s: %lld arrived  ttft p50 %s p99 %s  tpot mean %s  itl p99 %s  attainment %s\n",
          name.c_str(), start, start + w["duration_s"].get<double>(), w["requests"]["arrived"].get<long long>(),
          fmt(w["ttft_s"]["p50"]).c_str(), fmt(w["ttft_s"]["p99"]).c_str(), fmt(w["tpot_s"]["mean"]).c_str(),
          fmt(w["itl_s"]["p99"]).c_str(), fmt(w["slo"]["attainment"], "%.4f").c_str());
    }
  const auto& tp = s["throughput"];
  std::printf("  throughput output %s tokens/s  input %s tokens/s  total %s tokens/s  %s requests/s\n",
              fmt(tp["output_tokens_per_s"], "%.1f").c_str(), fmt(tp["input_tokens_per_s"], "%.1f").c_str(),
              fmt(tp["total_tokens_per_s"], "%.1f").c_str(), fmt(tp["requests_per_s"], "%.2f").c_str());
  std::printf("  planner   preemptions %lld  swaps_out %lld  drops %lld  restores %lld\n",
              s["planner"]["preemptions"].get<long long>(), s["planner"]["swaps_out"].get<long long>(),
              s["planner"]["drops"].get<long long>(), s["planner"]["restores"].get<long long>());
  if (const auto& p = s["planner"]; p.contains("drop_stall_s"))
    std::printf("  drops     %lld requests running at a drop: gap to their next token mean %s  p99 %s  max %s s\n",
                p["drop_stall_requests"].get<long long>(), fmt(p["drop_stall_s"]["mean"], "%.4f").c_str(),
                fmt(p["drop_stall_s"]["p99"], "%.4f").c_str(), fmt(p["drop_stall_s"]["max"], "%.4f").c_str());
  // Only where something was cached: a workload without prefix identity prints as it did.
  if (const auto& pc = s["prefix_cache"]; pc["hit_tokens"].get<long long>() > 0)
    std::printf("  prefix    hit %s of prompt tokens (%lld of %lld)  evicted %lld blocks\n",
                fmt(pc["hit_rate"], "%.4f").c_str(), pc["hit_tokens"].get<long long>(),
                pc["prompt_tokens"].get<long long>(), pc["evicted_blocks"].get<long long>());
  if (s.contains("groups")) {
    // A fleet: each instance group with what prices it.
    for (const auto& g : s["groups"])
      std::printf("  group     %s: %lld x %s tp=%lld %s, %lld KV blocks each; costs: %s\n",
                  g["name"].get<std::string>().c_str(), g["count"].get<long long>(),
                  g["gpu"].get<std::string>().c_str(), g["tp"].get<long long>(), g["role"].get<std::string>().c_str(),
                  g["blocks_per_instance"].get<long long>(), g["cost_source"].get<std::string>().c_str());
    if (s.contains("fleet_dollars_per_hour"))
      std::printf("  fleet     $%s per hour\n", fmt(s["fleet_dollars_per_hour"], "%.2f").c_str());
  } else if (s.contains("cost_source")) {
    std::printf("  costs     %s\n", s["cost_source"].get<std::string>().c_str());
  }
  if (s.contains("handoff")) {
    const auto& h = s["handoff"];
    std::printf(
        "  handoff   %lld prefill->decode (%s GiB)  waited for room %lld  transfer p50 %s p99 %s s  wait p99 %s s\n",
        h["handoffs"].get<long long>(), fmt(h["gib_moved"], "%.1f").c_str(), h["waited_for_room"].get<long long>(),
        fmt(h["transfer_s"]["p50"], "%.4f").c_str(), fmt(h["transfer_s"]["p99"], "%.4f").c_str(),
        fmt(h["wait_s"]["p99"], "%.3f").c_str());
  }
  if (s["workload"].contains("rate_scale_effect"))
    std::printf("  workload  %s: %s\n", s["workload"]["source"].get<std::string>().c_str(),
                s["workload"]["rate_scale_effect"].get<std::string>().c_str());
  if (s["workload"].value("clipped_samples", 0LL) > 0)
    std::printf("  workload  %lld synthetic lengths were cut to their distribution's max (workload.*_tokens.max)\n",
                s["workload"]["clipped_samples"].get<long long>());
  const auto& m = s["sim"];
  std::printf("  sim       %s simulated s in %s wall s  (%s requests/wall s, real-time factor %s)\n",
              fmt(m["simulated_s"], "%.1f").c_str(), fmt(m["wall_s"], "%.3f").c_str(),
              fmt(m["requests_per_wall_s"], "%.0f").c_str(), fmt(m["realtime_factor"], "%.0f").c_str());
  if (m.contains("timeline_capped_at_rows"))
    std::printf("  timeline  capped at %lld rows (the limit; raise sim.timeline_interval_s, or give --force)\n",
                m["timeline_capped_at_rows"].get<long long>());
  if (!out_dir.empty()) std::printf("  outputs   %s/\n", out_dir.c_str());
}

struct RunArgs {
  std::string scenario, out, trace_dir;
  std::vector<std::string> sets;
  bool quiet = false, no_wall = false, perfetto = false, overwrite = false, force = false, save_detailed = false;
};

}  // namespace

CommandRunner add_run_command(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand("run", "Run a scenario (default: the embedded scenarios/default.json)");
  run->add_option("scenario", a->scenario, "Scenario JSON file");
  run->add_option("--out", a->out, "Output folder (default out/<scenario name>)")->check(kOutputPath);
  run->add_option("--set", a->sets, "Override a scenario key: --set deployment.instances=8")->take_all();
  run->add_option("--trace-dir", a->trace_dir, "Folder that relative trace paths resolve against");
  run->add_flag("--quiet", a->quiet, "Print nothing on success");
  run->add_flag("--no-wall-clock", a->no_wall, "Write 0 for wall-time figures, so summary.json is byte-identical");
  run->add_flag("--perfetto", a->perfetto, "Also write trace.json (Chrome trace format; open in ui.perfetto.dev)");
  run->add_flag("--save-detailed", a->save_detailed,
                "vllm-bench.json also lists each request's input_lens, output_lens and ttfts, as vllm bench serve's");
  run->add_flag("--overwrite", a->overwrite, kOverwriteHelp);
  run->add_flag("--force", a->force, kForceHelp);
  return [a](const CommandContext&) {
    const Scenario sc = load_scenario(a->scenario, a->sets, a->trace_dir);
    const std::string out_dir = a->out.empty() ? (fs::path("out") / sc.name).string() : a->out;
    OutputFolder folder(out_dir, OutputRules{.overwrite = a->overwrite, .inputs = scenario_inputs(a->scenario, sc)});
    Json summary;
    {
      RunOptions ro;
      ro.out_dir = folder.path().string();
      ro.wall_clock = !a->no_wall;
      ro.perfetto = a->perfetto;
      ro.force = a->force;
      ro.save_detailed = a->save_detailed;
      Simulation sim(sc, ro);
      summary = sim.run();
    }
    write_text(folder.path() / "summary.json", json_file_text(summary));
    write_text(folder.path() / "scenario.json", json_file_text(sc.resolved));
    folder.commit();
    if (!a->quiet) print_run(summary, out_dir);
    return 0;
  };
}

}  // namespace kunsim
