#include "sim/cost/profile_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "sim/cost/cost_choice.hpp"

namespace kunsim {

namespace {

// The shards a profile's own rows cover (format 1), in order.
std::vector<std::pair<std::string, int>> covered(const Profile& p) {
  std::set<std::pair<std::string, int>> out;
  if (p.format == 1)
    for (const auto& [key, points] : p.ops) {
      const auto& [op, model, tp] = key;
      if (!model.empty() && p.covers(model, tp)) out.insert({model, tp});
    }
  return {out.begin(), out.end()};
}

// The iterations compared: prompts alone, a chunk after cached context, and decode batches.
std::vector<BatchShape> shapes(const ModelSpec& m) {
  std::vector<BatchShape> out;
  auto add = [&](std::vector<PrefillChunk> prefills, int decodes, std::int64_t per_decode) {
    BatchShape s;
    s.prefills = std::move(prefills);
    s.num_decodes = decodes;
    s.decode_context_sum = decodes * per_decode;
    s.layers = m.layers;
    s.sampled = decodes + static_cast<int>(s.prefills.size());
    out.push_back(s);
  };
  for (int tokens : {128, 512, 2048, 8192}) add({{tokens, 0}}, 0, 0);
  add({{512, 4096}}, 0, 0);
  for (int batch : {1, 16, 64, 256})
    for (std::int64_t ctx : {1024, 4096}) add({}, batch, ctx);
  return out;
}

struct Family {
  const char* name;
  double (*pick)(const IterationCost&);
};
const Family kFamilies[] = {
    {"qkv", [](const IterationCost& c) { return c.qkv; }},
    {"o_proj", [](const IterationCost& c) { return c.o_proj; }},
    {"mlp", [](const IterationCost& c) { return c.mlp; }},
    {"attn_prefill", [](const IterationCost& c) { return c.attn_prefill; }},
    {"attn_decode", [](const IterationCost& c) { return c.attn_decode; }},
    {"lm_head", [](const IterationCost& c) { return c.lm_head; }},
    {"allreduce", [](const IterationCost& c) { return c.allreduce; }},
    {"iteration", [](const IterationCost& c) { return c.sum() - c.cpu; }},
};

double r4(double x) { return std::round(x * 1e4) / 1e4; }

}  // namespace

Json compare_profiles(const Profile& a, const Profile& b, std::vector<std::pair<std::string, int>> shards) {
  if (shards.empty()) shards = covered(a);
  if (shards.empty()) shards = covered(b);
  if (shards.empty()) shards = {{"llama-3.1-8b", 1}};
  Json out = {{"a", {{"dir", a.dir}, {"describe", a.describe()}}},
              {"b", {{"dir", b.dir}, {"describe", b.describe()}}},
              {"ratio", "a / b (geometric mean over the shapes)"},
              {"mape", "|a - b| / b, mean over the shapes"},
              {"shards", Json::array()}};
  for (const auto& [model_name, tp] : shards) {
    const ModelSpec m = profile_model(a.covers(model_name, tp) ? a : b, model_name, "compare-profiles model");
    for (const Profile* p : {&a, &b})
      if (!p->covers(model_name, tp))
        throw InputError(p->dir + ": no measurements for " + model_name + " tp=" + std::to_string(tp));
    // Each side's cost of every shape, priced once.
    std::vector<IterationCost> ca, cb;
    for (auto [p, costs] : {std::pair{&a, &ca}, std::pair{&b, &cb}}) {
      ClusterSpec cluster;
      cluster.gpu = find_gpu(p->kind(), p->dir + "/meta.json kind");
      cluster.nvlink = {cluster.gpu.nvlink_bytes_per_s, 2000};
      const auto model = make_cost_model("profile", p, m, cluster, tp, RooflineParams{});
      for (const BatchShape& s : shapes(m)) costs->push_back(model->iteration(s));
    }
    Json shard = {{"model", model_name}, {"tp", tp}, {"ops", Json::object()}};
    for (const Family& f : kFamilies) {
      double log_sum = 0, ape_sum = 0, lo = INFINITY, hi = 0;
      int n = 0;
      for (std::size_t i = 0; i < ca.size(); ++i) {
        const double ta = f.pick(ca[i]), tb = f.pick(cb[i]);
        if (!(ta > 0) || !(tb > 0)) continue;  // an op this shape does not run, or one side lacks
        const double ratio = ta / tb;
        log_sum += std::log(ratio);
        ape_sum += std::fabs(ta - tb) / tb;
        lo = std::min(lo, ratio);
        hi = std::max(hi, ratio);
        ++n;
      }
      if (n == 0) continue;
      shard["ops"][f.name] = {{"ratio", r4(std::exp(log_sum / n))}, {"ratio_min", r4(lo)}, {"ratio_max", r4(hi)},
                              {"mape_pct", r4(100 * ape_sum / n)}, {"shapes", n}};
    }
    out["shards"].push_back(shard);
  }
  return out;
}

std::string comparison_table(const Json& c) {
  std::string t = "A: " + c["a"]["describe"].get<std::string>() + " (" + c["a"]["dir"].get<std::string>() + ")\n" +
                  "B: " + c["b"]["describe"].get<std::string>() + " (" + c["b"]["dir"].get<std::string>() + ")\n";
  char line[160];
  for (const auto& s : c["shards"]) {
    std::snprintf(line, sizeof line, "\n%s tp=%d        A/B ratio  (min - max)       MAPE vs B  shapes\n",
                  s["model"].get<std::string>().c_str(), s["tp"].get<int>());
    t += line;
    for (const auto& [op, v] : s["ops"].items()) {
      std::snprintf(line, sizeof line, "  %-13s %9.3f  (%6.3f - %6.3f)  %8.1f%%  %6d\n", op.c_str(), v["ratio"].get<double>(),
                    v["ratio_min"].get<double>(), v["ratio_max"].get<double>(), v["mape_pct"].get<double>(),
                    v["shapes"].get<int>());
      t += line;
    }
  }
  return t;
}

}  // namespace kunsim
