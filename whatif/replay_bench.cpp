#include "whatif/replay_bench.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "run/scenario.hpp"
#include "run/simulation.hpp"
#include "sim/cluster/gpu_spec.hpp"
#include "sim/core/input_file.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {
namespace {

// A command line as a shell splits it: whitespace, '\' line continuations, quotes.
std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool any = false;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      any = true;
    } else if (c == '\\' && i + 1 < line.size() && line[i + 1] == '\n') {
      ++i;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (any) out.push_back(std::exchange(cur, ""));
      any = false;
    } else {
      cur += c;
      any = true;
    }
  }
  if (any) out.push_back(cur);
  return out;
}

// The flags of a command line after its `skip` leading words: --name value, --name=value, and
// bare switches (those in `switches`); the positionals apart.
struct Flags {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positionals;
};

Flags flags_of(const std::string& what, const std::string& line, const std::vector<std::string>& command,
               const std::set<std::string>& switch_names) {
  const std::vector<std::string> w = words_of(line);
  std::string expected;
  for (const std::string& c : command) expected += c + " ";
  if (w.size() < command.size() || !std::equal(command.begin(), command.end(), w.begin()))
    throw InputError(what + ": expected `" + expected + "...`");
  Flags f;
  for (std::size_t i = command.size(); i < w.size(); ++i) {
    const std::string& a = w[i];
    if (a.rfind("-", 0) != 0 || a == "-") {
      f.positionals.push_back(a);
      continue;
    }
    const auto eq = a.find('=');
    const std::string name = a.substr(0, eq);
    if (eq != std::string::npos)
      f.values[name] = a.substr(eq + 1);
    else if (switch_names.count(name))
      f.switches.insert(name);
    else if (i + 1 < w.size())
      f.values[name] = w[++i];
    else
      throw InputError(what + ": " + name + " needs a value");
  }
  return f;
}

double number_of(const std::string& what, const std::string& flag, const std::string& v) {
  const std::optional<double> x = parse_number(v);
  if (!x) throw InputError(what + ": " + flag + " " + v + ": expected a number");
  return *x;
}

// The catalogue name of a Hugging Face model id: "Qwen/Qwen3-14B" -> qwen3-14b,
// "meta-llama/Llama-3.1-8B-Instruct" -> llama-3.1-8b.
std::string catalogue_name(const std::string& hf) {
  std::string n = hf.substr(hf.rfind('/') == std::string::npos ? 0 : hf.rfind('/') + 1);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* suffix : {"-instruct", "-chat", "-hf"})
    if (n.size() > std::strlen(suffix) && n.compare(n.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
      n.resize(n.size() - std::strlen(suffix));
  if (n.rfind("meta-", 0) == 0) n = n.substr(5);
  return n;
}

// vLLM's printed names and its JSON keys. "Peak ..." lines are left out on purpose.
const std::vector<std::pair<std::string, std::string>> kBlockKeys = {
    {"Successful requests", "completed"},
    {"Benchmark duration (s)", "duration"},
    {"Total input tokens", "total_input_tokens"},
    {"Total generated tokens", "total_output_tokens"},
    {"Request throughput (req/s)", "request_throughput"},
    {"Request goodput (req/s)", "request_goodput"},
    {"Output token throughput (tok/s)", "output_throughput"},
    {"Total Token throughput (tok/s)", "total_token_throughput"},
};

// The figures replayed: what kunsim models, not the counts the client fixes.
const std::vector<std::string> kCompared = {
    "duration",       "request_throughput", "output_throughput", "total_token_throughput",
    "mean_ttft_ms",   "median_ttft_ms",     "p99_ttft_ms",       "mean_tpot_ms",
    "median_tpot_ms", "p99_tpot_ms",        "mean_itl_ms",       "median_itl_ms",
    "p99_itl_ms",     "mean_e2el_ms",       "median_e2el_ms",    "p99_e2el_ms"};

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

}  // namespace

std::map<std::string, double> parse_bench_block(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.rfind(':');
    if (colon == std::string::npos) continue;
    const std::string name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    std::string key;
    for (const auto& [printed, k] : kBlockKeys)
      if (name == printed) key = k;
    // "Mean TTFT (ms)", "Median ITL (ms)", "P99 E2EL (ms)", "P90 TPOT (ms)"
    std::istringstream w(name);
    std::string stat, metric, unit;
    if (key.empty() && (w >> stat >> metric >> unit) && unit == "(ms)") {
      std::string s = stat;
      std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string m = metric;
      std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (s == "mean" || s == "median" || s == "std" || (s.size() > 1 && s[0] == 'p')) key = s + "_" + m + "_ms";
    }
    if (key.empty()) continue;
    try {
      out[key] = std::stod(value);
    } catch (...) {
      throw InputError("vllm bench block: \"" + trim(line) + "\": expected a number after the colon");
    }
  }
  return out;
}

namespace {
template <typename One>
void read_records(const Json& root, std::vector<BenchRecord>& out, One one) {
  if (root.contains("records")) {
    if (!root["records"].is_array()) throw InputError("records: expected an array");
    for (std::size_t i = 0; i < root["records"].size(); ++i)
      out.push_back(one(root["records"][i], "records[" + std::to_string(i) + "]"));
  } else {
    // A --save-result JSON with the serve and bench lines and the GPU added: its figures (and
    // per-request arrays) read as vLLM wrote them.
    const VllmBenchResult result = VllmBenchResult::from_json(root, "");
    Json j = Json::object();
    for (const char* k : {"id", "source", "gpu", "serve", "bench", "recorded_mape"})
      if (root.contains(k)) j[k] = root[k];
    j["measured"] = Json::object();
    for (const auto& [key, value] : result.figures)
      if (std::find(kCompared.begin(), kCompared.end(), key) != kCompared.end() || key == "completed" ||
          key == "total_input_tokens" || key == "total_output_tokens")
        j["measured"][key] = value;
    BenchRecord r = one(j, "");
    r.detailed = result.detailed;
    out.push_back(std::move(r));
  }
}
}  // namespace

std::vector<BenchRecord> load_bench_records(const std::string& path) {
  if (std::filesystem::is_directory(path)) {
    // A folder of records (--save-result files, manifests): every .json in it, by name, one table.
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(path))
      if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(path + ": no .json records in the folder");
    std::vector<BenchRecord> all;
    for (const std::string& f : files)
      for (BenchRecord& r : load_bench_records(f)) all.push_back(std::move(r));
    return all;
  }
  const Json root = parse_json_file(path);
  std::vector<BenchRecord> out;
  auto one = [&](const Json& j, const std::string& at) {
    JsonFields f(j, at);
    BenchRecord r;
    r.id = f.string("id", std::filesystem::path(path).stem().string(), Help{"the record's name"});
    r.source = f.string("source", path, Help{"where its figures were copied from"});
    r.gpu = f.string("gpu", Help{"kunsim's GPU kind the run used"});
    r.serve = f.string("serve", Help{"the vllm serve command line"});
    r.bench = f.string("bench", Help{"the vllm bench serve command line"});
    if (f.has("recorded_mape"))
      r.recorded_mape = f.number("recorded_mape", 0, 1e6, Help{"kunsim's MAPE when committed"});
    if (const Json* m = f.child("measured", Help{"the figures under vLLM's JSON keys"})) {
      for (auto it = m->begin(); it != m->end(); ++it)
        if (it.value().is_number()) r.measured[it.key()] = it.value().get<double>();
    }
    if (f.has("block")) r.measured = parse_bench_block(f.string("block", Help{"the printed result block"}));
    if (const Json* d =
            f.child("detailed", Help{"--save-detailed's per-request arrays (input_lens, output_lens, ...)"}))
      r.detailed = VllmBenchResult::from_json(*d, f.path_of("detailed")).detailed;
    f.finish();
    if (r.measured.empty())
      throw InputError((at.empty() ? "" : at + ": ") + "no figures (measured, block, or vLLM's keys)");
    return r;
  };
  try {
    read_records(root, out, one);
  } catch (const InputError& e) {
    throw InputError(path + ": " + e.what());  // the JSON path inside the file
  }
  return out;
}

Json scenario_of_record(const BenchRecord& r) {
  // The server.
  const std::string sw = "serve (" + r.id + ")";
  const Flags s = flags_of(
      sw, r.serve, {"vllm", "serve"},
      {"--enable-prefix-caching", "--no-enable-prefix-caching", "--enable-expert-parallel", "--async-scheduling",
       "--trust-remote-code", "--disable-log-requests", "--enable-chunked-prefill", "--disable-log-stats"});
  std::string hf = s.values.count("--model") ? s.values.at("--model") : "";
  if (hf.empty() && !s.positionals.empty()) hf = s.positionals.front();
  if (hf.empty()) throw InputError(sw + ": no model");
  const std::string model = catalogue_name(hf);
  find_model(model, sw + ": model " + hf);
  if (s.switches.count("--enable-expert-parallel"))
    throw InputError(sw + ": --enable-expert-parallel needs expert parallelism, which kunsim does not model yet (MoE)");
  if (s.switches.count("--async-scheduling"))
    throw InputError(sw +
                     ": --async-scheduling overlaps the host's scheduling with the GPU's step, which kunsim's "
                     "host overhead per step does not model yet");
  static const std::set<std::string> ignored = {
      "--host",  "--port", "--served-model-name", "--tokenizer", "--reasoning-parser", "--api-key", "--seed",
      "--model", "--dtype"};
  static const std::set<std::string> modelled = {"--tensor-parallel-size",
                                                 "-tp",
                                                 "--max-num-seqs",
                                                 "--max-num-batched-tokens",
                                                 "--gpu-memory-utilization",
                                                 "--max-model-len",
                                                 "--kv-cache-dtype",
                                                 "--data-parallel-size",
                                                 "-dp"};
  for (const auto& [k, v] : s.values) {
    if (ignored.count(k) || modelled.count(k)) continue;
    if (k == "--speculative-config")
      throw InputError(sw + ": --speculative-config: kunsim does not model speculative decoding yet");
    throw InputError(sw + ": " + k + " is not modelled; kunsim replays only what it can model");
  }
  if (s.values.count("--dtype") && s.values.at("--dtype") != "auto" && s.values.at("--dtype") != "bfloat16")
    throw InputError(sw + ": --dtype " + s.values.at("--dtype") + ": kunsim prices bf16 weights only");
  if (s.values.count("--kv-cache-dtype") && s.values.at("--kv-cache-dtype") != "auto")
    throw InputError(sw + ": --kv-cache-dtype " + s.values.at("--kv-cache-dtype") + ": kunsim has no fp8 KV cache yet");
  for (const char* dp : {"--data-parallel-size", "-dp"})
    if (s.values.count(dp) && number_of(sw, dp, s.values.at(dp)) != 1)
      throw InputError(sw + ": " + dp + " " + s.values.at(dp) + ": data-parallel attention is not modelled yet");
  auto value = [&](std::initializer_list<const char*> names, double dflt) {
    for (const char* n : names)
      if (s.values.count(n)) return number_of(sw, n, s.values.at(n));
    return dflt;
  };
  const GpuSpec& gpu = find_gpu(r.gpu, "gpu (" + r.id + ")");
  const auto tp = static_cast<int>(value({"--tensor-parallel-size", "-tp"}, 1));
  // What the command line leaves unset is vLLM's default for the GPU, written out so the replayed
  // scenario says what ran (the records do not name their release: the modelled one's).
  const SchedulerLimits vllm = vllm_limits_on(gpu, nullptr);
  Json d = {
      {"instances", 1},
      {"tp", tp},
      {"max_num_seqs", static_cast<int>(value({"--max-num-seqs"}, vllm.max_num_seqs))},
      {"max_num_batched_tokens", static_cast<int>(value({"--max-num-batched-tokens"}, vllm.max_num_batched_tokens))},
      {"gpu_memory_utilization", value({"--gpu-memory-utilization"}, 0.9)},
      {"enable_prefix_caching", !s.switches.count("--no-enable-prefix-caching")}};
  if (s.values.count("--max-model-len")) d["max_model_len"] = static_cast<int>(value({"--max-model-len"}, 0));

  // The client.
  const std::string bw = "bench (" + r.id + ")";
  const Flags b =
      flags_of(bw, r.bench, {"vllm", "bench", "serve"},
               {"--ignore-eos", "--trust-remote-code", "--save-result", "--save-detailed", "--disable-tqdm"});
  const std::string dataset = b.values.count("--dataset-name") ? b.values.at("--dataset-name") : "random";
  if (dataset != "random" && !r.detailed)
    throw InputError(bw + ": --dataset-name " + dataset +
                     ": only random prompts replay from the figures alone; a record saved with --save-detailed "
                     "(input_lens, output_lens) replays any dataset");
  static const std::set<std::string> bench_ignored = {
      "--model",       "--backend",    "--endpoint",        "--tokenizer",          "--base-url",           "--host",
      "--port",        "--result-dir", "--result-filename", "--percentile-metrics", "--metric-percentiles", "--label",
      "--dataset-name"};
  static const std::set<std::string> bench_modelled = {
      "--random-input-len", "--random-output-len", "--random-range-ratio", "--num-prompts",
      "--request-rate",     "--max-concurrency",   "--burstiness",         "--seed",
      "--random-prefix-len"};
  // A dataset's own flags say which prompts were drawn; per-request arrays say what they were.
  auto dataset_flag = [&](const std::string& k) { return r.detailed && k.rfind("--" + dataset + "-", 0) == 0; };
  for (const auto& [k, v] : b.values)
    if (!bench_ignored.count(k) && !bench_modelled.count(k) && !dataset_flag(k) && k != "--dataset-path")
      throw InputError(bw + ": " + k + " is not modelled; kunsim replays only what it can model");
  auto bvalue = [&](const char* n, double dflt) { return b.values.count(n) ? number_of(bw, n, b.values.at(n)) : dflt; };
  if (bvalue("--random-prefix-len", 0) != 0)
    throw InputError(bw + ": --random-prefix-len: a shared prefix is not replayed yet");
  const auto prompts = static_cast<long long>(bvalue("--num-prompts", 1000));
  double in = bvalue("--random-input-len", 1024), out = bvalue("--random-output-len", 128);
  // Token counts as the server saw them: prompts drift through re-tokenisation, and answers stop at
  // EOS unless --ignore-eos; the record's totals say by how much, and kunsim takes their means.
  const auto completed = r.measured.count("completed") ? r.measured.at("completed") : static_cast<double>(prompts);
  if (r.measured.count("total_input_tokens") && completed > 0) in = r.measured.at("total_input_tokens") / completed;
  if (r.measured.count("total_output_tokens") && completed > 0) out = r.measured.at("total_output_tokens") / completed;
  const double ratio = bvalue("--random-range-ratio", 0);
  auto lengths = [&](double mean) {
    const auto n = std::max<long long>(1, std::llround(mean));
    if (ratio <= 0) return Json(n);
    return Json{{"type", "uniform"},
                {"min", std::max<long long>(1, std::llround(mean * (1 - ratio)))},
                {"max_value", std::llround(mean * (1 + ratio))}};
  };
  Json synthetic = {{"input_tokens", lengths(in)}, {"output_tokens", lengths(out)}};
  long long requests = prompts;
  if (r.detailed) {
    // The lengths the server saw, request by request, in the client's order. A request that failed
    // (output 0) is sent asking for one token: the real server took its prompt.
    std::vector<std::int64_t> outs = r.detailed->output_lens;
    for (std::int64_t& o : outs) o = std::max<std::int64_t>(o, 1);
    std::vector<std::int64_t> ins = r.detailed->input_lens;
    for (std::int64_t& i : ins) i = std::max<std::int64_t>(i, 1);
    synthetic["input_tokens"] = {{"type", "sequence"}, {"lengths", ins}};
    synthetic["output_tokens"] = {{"type", "sequence"}, {"lengths", outs}};
    requests = static_cast<long long>(ins.size());
  }
  const std::string rate = b.values.count("--request-rate") ? b.values.at("--request-rate") : "inf";
  if (rate == "inf") {
    synthetic["rate"] = "inf";
  } else {
    synthetic["rate"] = number_of(bw, "--request-rate", rate);
    const double burstiness = bvalue("--burstiness", 1);
    if (burstiness != 1) {
      synthetic["arrival"] = "gamma";
      synthetic["cv"] = 1 / std::sqrt(burstiness);
    }
  }
  Json workload = {{"synthetic", synthetic}, {"max_requests", requests}};
  if (b.values.count("--max-concurrency"))
    workload["max_concurrency"] = static_cast<long long>(bvalue("--max-concurrency", 1));
  std::string name;
  for (char c : r.id) name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return Json{{"name", name},        {"seed", static_cast<long long>(bvalue("--seed", 0))},
              {"model", model},      {"cluster", {{"gpu", r.gpu}, {"nodes", (tp + 7) / 8}, {"gpus_per_node", 8}}},
              {"deployment", d},     {"policy", {{"name", "vllm"}}},
              {"workload", workload}};
}

namespace {

// Tokens of KV one instance of the record's deployment holds (its memory plan, under a workload
// and context small enough that nothing else is checked).
std::int64_t kv_tokens_of(const Json& scenario) {
  Json probe = scenario;
  probe["deployment"]["max_model_len"] = 2;
  probe["workload"] = {{"synthetic", {{"rate", 1}, {"input_tokens", 1}, {"output_tokens", 1}}}, {"max_requests", 1}};
  const Scenario p = scenario_from_json(probe, TracePaths{});
  return p.deployment.groups.front().memory.num_blocks * p.engine.block_size;
}

}  // namespace

Json replay_record(const BenchRecord& r) {
  Json scenario = scenario_of_record(r);
  // No comparison until the run below makes one.
  Json out = {{"id", r.id},
              {"source", r.source},
              {"gpu", r.gpu},
              {"model", scenario["model"]},
              {"real", Json::object()},
              {"kunsim", Json::object()},
              {"error_pct", Json::object()},
              {"saturated", false},
              {"mape", nullptr}};
  if (r.recorded_mape) out["recorded_mape"] = *r.recorded_mape;
  // vLLM starts only an engine whose KV holds one request of max_model_len. The real server
  // started, so where the serve line sets no context and kunsim's KV holds less than the model's,
  // kunsim's KV is the smaller: the run replays at the longest context it holds (as
  // `--max-model-len` would start it) and says so; one whose requests do not fit even that is no
  // comparison.
  if (!scenario["deployment"].contains("max_model_len")) {
    const std::int64_t holds = kv_tokens_of(scenario);
    const int context = find_model(scenario["model"].get<std::string>(), "model").max_model_len;
    const Json& syn = scenario["workload"]["synthetic"];
    std::int64_t longest = syn["input_tokens"].is_number_integer() && syn["output_tokens"].is_number_integer()
                               ? syn["input_tokens"].get<std::int64_t>() + syn["output_tokens"].get<std::int64_t>()
                               : 0;
    if (r.detailed)
      for (std::size_t i = 0; i < r.detailed->input_lens.size(); ++i)
        longest = std::max(longest, r.detailed->input_lens[i] + r.detailed->output_lens[i]);
    if (holds < context) {
      out["context"] = "kunsim's KV holds " + std::to_string(holds) + " tokens an instance, less than " +
                       scenario["model"].get<std::string>() + "'s context of " + std::to_string(context) +
                       ", where vLLM started: replayed with max_model_len " + std::to_string(holds);
      scenario["deployment"]["max_model_len"] = holds;
    }
    if (holds < longest) {
      out["scenario"] = scenario;
      out["incomplete"] = "kunsim's KV holds " + std::to_string(holds) + " tokens an instance, fewer than one " +
                          std::to_string(longest) + "-token request, which the real server served";
      return out;
    }
  }
  out["scenario"] = scenario;
  const Scenario sc = scenario_from_json(scenario, TracePaths{});  // outlives the run, which refers to it
  Simulation sim(sc, RunOptions{.out_dir = "", .wall_clock = false});
  sim.run();
  const Json k = sim.vllm_bench();
  Json real = Json::object(), mine = Json::object(), err = Json::object();
  double sum = 0;
  int n = 0;
  for (const std::string& key : kCompared) {
    if (!r.measured.count(key) || !k.contains(key) || !k[key].is_number()) continue;
    const double v = r.measured.at(key), x = k[key].get<double>();
    real[key] = v;
    mine[key] = x;
    if (v == 0) continue;
    const double e = (x - v) / v * 100;
    err[key] = std::round(e * 100) / 100;
    sum += std::abs(e);
    ++n;
  }
  out["real"] = real;
  out["kunsim"] = mine;
  out["error_pct"] = err;
  // A run kunsim could not serve whole (a prompt longer than its KV cache holds is rejected) is
  // no comparison: said, and left out of the MAPE like a saturated one.
  const double done = k["completed"].get<double>(),
               asked = r.measured.count("completed") ? r.measured.at("completed") : done;
  if (done < asked) {
    out["incomplete"] = "kunsim completed " + std::to_string(std::llround(done)) + " of the " +
                        std::to_string(std::llround(asked)) + " requests the real server completed";
    n = 0;
  }
  // Saturated: a finite-rate open loop whose real throughput fell 10% short of the offered rate,
  // or (with --save-detailed's TTFTs, in the client's order) whose TTFT kept growing: the last
  // quarter's mean more than twice the first quarter's.
  const Json& rate = scenario["workload"]["synthetic"]["rate"];
  const bool open = !scenario["workload"].contains("max_concurrency") && rate.is_number();
  std::string why;
  if (open && r.measured.count("request_throughput") && r.measured.at("request_throughput") < 0.9 * rate.get<double>())
    why = "real throughput more than 10% below the offered rate";
  if (open && why.empty() && r.detailed && r.detailed->ttfts.size() >= 8) {
    const std::vector<double>& t = r.detailed->ttfts;
    const std::size_t q = t.size() / 4;
    auto mean = [](auto from, auto to) {
      double sum = 0;
      std::size_t n = 0;
      for (auto it = from; it != to; ++it)
        if (*it > 0) sum += *it, ++n;  // 0: a request that failed
      return n ? sum / static_cast<double>(n) : 0.0;
    };
    const double first = mean(t.begin(), t.begin() + q), last = mean(t.end() - q, t.end());
    if (first > 0 && last > 2 * first)
      why = "real TTFT grew through the run (last quarter's mean over twice the first's)";
  }
  const bool saturated = !why.empty();
  out["saturated"] = saturated;
  if (saturated) out["saturated_why"] = why;
  out["mape"] = n ? Json(std::round(sum / n * 100) / 100) : Json(nullptr);
  return out;
}

std::string replay_table(const Json& results) {
  std::string t;
  char line[256];
  for (const Json& r : results) {
    t += r["id"].get<std::string>() + " (" + r["model"].get<std::string>() + " on " + r["gpu"].get<std::string>() +
         (r["saturated"].get<bool>() ? "; saturated: left out of the MAPE" : "") +
         (r.contains("incomplete") ? "; " + r["incomplete"].get<std::string>() + ": no MAPE" : "") +
         (r.contains("context") && !r.contains("incomplete") ? "; " + r["context"].get<std::string>() : "") + ")\n";
    std::snprintf(line, sizeof line, "  %-24s %14s %14s %9s\n", "figure", "real", "kunsim", "error");
    t += line;
    for (auto it = r["real"].begin(); it != r["real"].end(); ++it) {
      char e[32] = "-";
      if (r["error_pct"].contains(it.key()))
        std::snprintf(e, sizeof e, "%+.1f%%", r["error_pct"][it.key()].get<double>());
      std::snprintf(line, sizeof line, "  %-24s %14.2f %14.2f %9s\n", it.key().c_str(), it.value().get<double>(),
                    r["kunsim"][it.key()].get<double>(), e);
      t += line;
    }
    if (r["mape"].is_null()) {
      t += "  MAPE -\n\n";
      continue;
    }
    char recorded[48] = "";
    if (r.contains("recorded_mape"))
      std::snprintf(recorded, sizeof recorded, " (recorded %.1f%%)", r["recorded_mape"].get<double>());
    std::snprintf(line, sizeof line, "  MAPE %.1f%%%s\n\n", r["mape"].get<double>(), recorded);
    t += line;
  }
  return t;
}

std::string validation_markdown(const Json& results, const std::string& manifest) {
  std::string md =
      "# Validation: kunsim against real `vllm bench serve` runs\n\n"
      "Generated by `kunsim replay-bench " +
      manifest +
      " --markdown docs/validation.md` (do not edit by hand).\n"
      "Each record is a real run as its user ran it: the serve and bench command lines and the figures vLLM\n"
      "printed, copied by hand into the manifest with their source. kunsim turns the command lines into a\n"
      "scenario (vLLM's defaults written out), runs it on its measured kernel tables, and compares every\n"
      "figure both have. Token counts follow the record's totals (answers stop at EOS; prompts drift\n"
      "through re-tokenisation). No figure here was fitted to these runs.\n\n";
  // MAPE per GPU, model and figure.
  std::map<std::string, std::map<std::string, std::pair<double, int>>> by;  // "gpu model" -> figure -> (sum, n)
  std::set<std::string> figures;
  for (const Json& r : results) {
    if (r["saturated"].get<bool>() || r["mape"].is_null()) continue;
    const std::string g = r["gpu"].get<std::string>() + " " + r["model"].get<std::string>();
    for (auto it = r["error_pct"].begin(); it != r["error_pct"].end(); ++it) {
      auto& [sum, n] = by[g][it.key()];
      sum += std::abs(it.value().get<double>());
      ++n;
      figures.insert(it.key());
    }
  }
  md += "## MAPE per GPU, model and figure\n\n| GPU, model | records |";
  for (const char* f : {"duration", "output_throughput", "mean_ttft_ms", "mean_tpot_ms", "mean_itl_ms", "p99_itl_ms"})
    md += std::string(" ") + f + " |";
  md += "\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& [g, f] : by) {
    int records = 0;
    for (const Json& r : results)
      if (!r["saturated"].get<bool>() && !r["mape"].is_null() &&
          r["gpu"].get<std::string>() + " " + r["model"].get<std::string>() == g)
        ++records;
    md += "| " + g + " | " + std::to_string(records) + " |";
    for (const char* k :
         {"duration", "output_throughput", "mean_ttft_ms", "mean_tpot_ms", "mean_itl_ms", "p99_itl_ms"}) {
      char cell[32];
      if (f.count(k))
        std::snprintf(cell, sizeof cell, " %.1f%% |", f.at(k).first / f.at(k).second);
      else
        std::snprintf(cell, sizeof cell, " - |");
      md += cell;
    }
    md += "\n";
  }
  md += "\n## Records\n\n";
  for (const Json& r : results) {
    md += "### " + r["id"].get<std::string>() + "\n\nSource: " + r["source"].get<std::string>() + ".\n\n";
    md += "| figure | real | kunsim | error |\n|---|---|---|---|\n";
    for (auto it = r["real"].begin(); it != r["real"].end(); ++it) {
      char row[160];
      const double e = r["error_pct"].value(it.key(), 0.0);
      std::snprintf(row, sizeof row, "| %s | %.2f | %.2f | %+.1f%% |\n", it.key().c_str(), it.value().get<double>(),
                    r["kunsim"][it.key()].get<double>(), e);
      md += row;
    }
    if (r.contains("incomplete")) {
      md += "\nNo MAPE: " + r["incomplete"].get<std::string>() + " (left out of the table above).\n\n";
      continue;
    }
    if (r.contains("context")) md += "\nContext: " + r["context"].get<std::string>() + ".\n";
    char tail[96];
    std::snprintf(tail, sizeof tail, "\nMAPE %.1f%%%s.\n\n", r["mape"].get<double>(),
                  r["saturated"].get<bool>() ? " (saturated: left out of the table above)" : "");
    md += tail;
  }
  return md;
}

}  // namespace kunsim
