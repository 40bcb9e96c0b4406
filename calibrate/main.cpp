// kunsim-calibrate: measures this GPU's kernel and transfer times for the simulator's cost model.
//   kunsim-calibrate --model llama-3-8b --tp 1 --tp 2 [--out DIR] [--kind h100-sxm] [--quick]
// writes (merging into) DIR = calibrate/profiles/<kind>/kunsim-kernels/: ops.csv, iterations.csv, meta.json.
// `kunsim fit DIR --out R` then reports the fitted model's held-out error.
// Exit codes: 0 done, 1 no GPU or a GPU failure, 2 bad arguments.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <csignal>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "calibrate/calibration.hpp"
#include "calibrate/grid.hpp"
#include "calibrate/model_shard.hpp"
#include "kernels/cuda_check.hpp"
#include "sim/cluster/gpu_spec.hpp"

namespace {

using namespace kunsim::calibrate;

// The ceilings an earlier session measured into `dir` (meta.json), so a run with --no-ceilings
// keeps them and still reports efficiencies; none when there is no such file.
nlohmann::json measured_ceilings(const std::string& dir) {
  std::ifstream in(dir + "/meta.json");
  if (!in) return nlohmann::json::object();
  const nlohmann::json meta = nlohmann::json::parse(in, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || !meta.contains("ceilings") || !meta["ceilings"].is_object())
    return nlohmann::json::object();
  return meta["ceilings"];
}

std::string version_string(int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); }

// The kernel module's version ("580.159.04"), as nvidia-smi shows it; the CUDA driver API
// version alone does not tell two driver builds apart.
std::string nvidia_driver_version() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  std::getline(in, line);
  const std::size_t at = line.find("Kernel Module");
  if (at == std::string::npos) return "unknown";
  std::istringstream words(line.substr(at + 13));
  std::string v;
  words >> v;
  return v.empty() ? "unknown" : v;
}

std::string read_file(const std::string& path, const char* option) {
  std::ifstream in(path);
  if (!in) throw BadInput(std::string(option) + ": cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string today_utc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

nlohmann::json device_meta(const std::string& kind) {
  cudaDeviceProp p{};
  KUNSIM_CUDA(cudaGetDeviceProperties(&p, 0));
  int driver = 0, runtime = 0, sm_khz = 0, mem_khz = 0, count = 0;
  KUNSIM_CUDA(cudaDriverGetVersion(&driver));
  KUNSIM_CUDA(cudaRuntimeGetVersion(&runtime));
  KUNSIM_CUDA(cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, 0));
  KUNSIM_CUDA(cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0));
  KUNSIM_CUDA(cudaGetDeviceCount(&count));
  return {{"gpu", p.name},
          {"kind", kind},
          {"gpus_present", count},
          {"compute_capability", std::to_string(p.major) + "." + std::to_string(p.minor)},
          {"sm_count", p.multiProcessorCount},
          {"l2_bytes", p.l2CacheSize},
          {"memory_bytes", p.totalGlobalMem},
          {"sm_clock_mhz", sm_khz / 1000},  // the rated maximum; clocks were left as found
          {"memory_clock_mhz", mem_khz / 1000},
          {"driver", nvidia_driver_version()},
          {"cuda_driver", version_string(driver)},
          {"cuda_runtime", version_string(runtime)},
          {"date", today_utc()},
          {"tool", "kunsim-calibrate 0.1.0"}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kunsim-calibrate: time kunsim's kernels and transfers on this GPU and write a cost profile"};
  std::vector<std::string> models, model_specs;
  std::string grid_file;
  std::vector<int> tps{1};
  std::string out, kind;
  bool quick = false, no_transfers = false, transfers_only = false, list_grid = false, no_ceilings = false;
  int trials = 9;
  app.add_option("--model", models, "models from the catalogue (repeatable)");
  app.add_option("--model-spec", model_specs,
                 "a model outside the catalogue: a JSON file with its keys (name, layers, hidden, heads, kv_heads, "
                 "head_dim, ffn, vocab)");
  app.add_option("--grid", grid_file, "measure the shapes in this JSON file instead of the built-in grid");
  app.add_option("--tp", tps, "TP degrees to profile, each as one GPU's shard (repeatable)")->check(CLI::Range(1, 64));
  app.add_option("--out", out, "profile folder (default calibrate/profiles/<kind>/kunsim-kernels)");
  app.add_option("--kind", kind, "GPU kind as the simulator names it (default: from the device name)");
  app.add_flag("--quick", quick, "a small grid, to try the harness out (not for shipping)");
  app.add_flag("--no-transfers", no_transfers, "skip memcpy and NCCL measurements");
  app.add_flag("--no-ceilings", no_ceilings,
               "skip measuring the device-copy and GEMM ceilings; those OUT already holds are kept and used");
  app.add_flag("--transfers-only", transfers_only, "measure transfers only");
  app.add_option("--trials", trials, "timed trials per point (median)")->check(CLI::Range(3, 101));
  app.add_flag("--list-grid", list_grid, "print how many points each op gets, then exit (no GPU needed)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  try {
    std::vector<ModelShard> shards;
    for (const auto& m : models)
      for (int tp : tps) shards.push_back(shard_of(m, tp));
    for (const auto& file : model_specs) {
      const nlohmann::json spec = nlohmann::json::parse(read_file(file, "--model-spec"), nullptr, false);
      if (spec.is_discarded()) throw BadInput(file + ": not valid JSON");
      for (int tp : tps) shards.push_back(shard_of_spec(spec, file, tp));
    }
    std::optional<Grid> grid;
    if (!grid_file.empty()) {
      try {
        grid = Grid::from_json(read_file(grid_file, "--grid"), grid_file);
      } catch (const std::invalid_argument& e) {
        throw BadInput(e.what());
      }
    }
    if (shards.empty() && !transfers_only && !list_grid) throw BadInput("--model: name at least one model (or --transfers-only)");
    if (list_grid) {
      const Grid g = grid ? *grid : Grid::make(quick, 1 << 20);
      std::printf("per-token ops: %zu token counts x 7 ops; lm head: %zu; attn_prefill: %zu; attn_decode: %zu "
                  "(uniform and skewed, at a 1M-key pool); mixed attention: %zu; iterations: %zu; transfers: %zu sizes per "
                  "kind\n",
                  g.tokens.size(), g.lm_rows.size(), g.prefill.size(), g.decode.size(), g.mixed.size(), g.iterations.size(),
                  g.transfer_bytes.size());
      return 0;
    }

    std::string why;
    if (kunsim::gpu::gpu_count(&why) == 0) {
      std::fprintf(stderr, "kunsim-calibrate: no GPU here (%s)\n", why.c_str());
      return 1;
    }
    cudaDeviceProp p{};
    KUNSIM_CUDA(cudaGetDeviceProperties(&p, 0));
    if (kind.empty())
      if (const kunsim::GpuSpec* g = kunsim::gpu_for_driver_name(p.name)) kind = g->name;
    if (kind.empty()) throw BadInput(std::string("--kind: cannot tell the GPU kind of \"") + p.name + "\"; name it");
    if (out.empty()) out = "calibrate/profiles/" + kind + "/kunsim-kernels";

    const auto t0 = std::chrono::steady_clock::now();
    ProfileWriter writer(out);
    nlohmann::json device;
    std::vector<nlohmann::json> runs;
    CalibrationOptions opts;
    opts.quick = quick;
    opts.grid = grid;
    opts.timer.trials = quick ? 3 : trials;
    // Rows are saved after every op family. KUNSIM_CALIBRATE_KILL_AFTER=FAMILY kills the process
    // right after saving that family: how the session test checks that a killed step keeps them.
    const char* kill_after = std::getenv("KUNSIM_CALIBRATE_KILL_AFTER");
    opts.checkpoint = [&writer, &device, &runs, kill_after](const char* family) {
      writer.write(device, runs);
      if (kill_after && std::strcmp(kill_after, family) == 0) std::raise(SIGKILL);
    };
    Calibration cal(writer, opts);
    std::printf("kunsim-calibrate on %s (%s), writing %s\n", p.name, kind.c_str(), out.c_str());
    device = device_meta(kind);
    device["ceilings"] = no_ceilings ? measured_ceilings(out) : cal.ceilings();
    for (const auto& s : transfers_only ? std::vector<ModelShard>{} : shards) {
      runs.push_back(cal.model(s, device["ceilings"]));
      writer.write(device, runs);  // after each model, so a cut-off run keeps what it measured
    }
    if (!no_transfers) runs.push_back(cal.transfers());
    writer.write(device, runs);
    std::printf("done in %.0f s: %zu op rows -> %s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), writer.ops().size(),
                out.c_str());
    return 0;
  } catch (const BadInput& e) {
    std::fprintf(stderr, "kunsim-calibrate: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kunsim-calibrate: %s\n", e.what());
    return 1;
  }
}
