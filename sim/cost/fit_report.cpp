#include "sim/cost/fit_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/interpolator.hpp"
#include "sim/cost/kernel_table_fit.hpp"
#include "sim/cost/profile_cost_model.hpp"
#include "sim/model/model_spec.hpp"

namespace kunsim {
namespace {

bool two_d(const std::string& op) { return op == "attn_prefill" || op == "attn_decode"; }

// Report key of an op group: all-reduce rows measured over different rank counts stay apart.
std::string group_name(const std::tuple<std::string, std::string, int>& key) {
  const auto& [op, model, tp] = key;
  return op == "allreduce" && tp > 0 ? op + "@" + std::to_string(tp) : op;
}

// Splits a group's points into (train, held out): within each p1 row, every fifth point by p2
// order, never the row's first or last; 1-D ops are one row.
std::pair<std::vector<ProfilePoint>, std::vector<ProfilePoint>> split(std::vector<ProfilePoint> pts, bool rows) {
  std::sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.p1 != b.p1 ? a.p1 < b.p1 : a.p2 < b.p2; });
  std::vector<ProfilePoint> train, held;
  for (std::size_t i = 0; i < pts.size();) {
    std::size_t j = i;
    while (j < pts.size() && (!rows || pts[j].p1 == pts[i].p1)) ++j;
    for (std::size_t k = i; k < j; ++k) {
      const std::size_t in_row = k - i;
      (in_row % 5 == 2 && k + 1 < j ? held : train).push_back(pts[k]);
    }
    i = j;
  }
  return {train, held};
}

double pct(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

double r6(double x) { return std::round(x * 1e6) / 1e6; }

}  // namespace

Json fit_report(const Profile& p, const RooflineParams& roofline) {
  if (p.format == 2) return kernel_table_fit_report(p, roofline);
  Json report;
  report["gpu"] = p.meta.is_object() ? p.meta.value("gpu", std::string("unknown")) : std::string("unknown");
  report["ops"] = Json::object();
  std::map<std::string, std::pair<double, std::size_t>> err;  // op -> (sum of APE, held-out count)
  std::map<std::string, std::size_t> points;
  for (const auto& [key, pts] : p.ops) {
    const std::string& op = std::get<0>(key);
    const std::string name = group_name(key);
    points[name] += pts.size();
    const auto [train, held] = split(pts, two_d(op));
    if (held.empty()) continue;
    for (const auto& h : held) {
      double predicted;
      if (two_d(op)) {
        predicted = Interpolator2D(train).at(h.p1, h.p2);
      } else {
        std::vector<std::pair<double, double>> xy;
        for (const auto& t : train) xy.emplace_back(t.p1, t.seconds);
        predicted = Interpolator1D(std::move(xy)).at(h.p1);
      }
      err[name].first += std::fabs(predicted - h.seconds) / h.seconds;
      ++err[name].second;
    }
  }
  for (const auto& [op, n] : points) {
    const auto it = err.find(op);
    const double mape = it == err.end() || it->second.second == 0 ? 0.0 : it->second.first / it->second.second;
    report["ops"][op] = {{"heldout_mape", r6(mape)}, {"points", n}};
  }
  const std::string kind = p.kind();
  // Measured batches against the model's prediction, `predict` picking the terms compared.
  auto check = [&](const std::vector<IterationPoint>& points, const char* file, bool all_layers,
                   double (*predict)(const IterationCost&)) {
    std::vector<double> apes;
    for (const auto& it : points) {
      const ModelSpec m = profile_model(p, it.model, p.dir + "/" + file + " model");
      const GpuSpec& gpu = find_gpu(kind, p.dir + "/meta.json kind");
      const ProfileCostModel cm(p, m, gpu, {gpu.nvlink_bytes_per_s, 2000}, it.tp, RooflineParams{});
      BatchShape s;
      if (it.prefill_tokens > 0) s.prefills = {{static_cast<int>(it.prefill_tokens), static_cast<int>(it.prefill_context)}};
      s.num_decodes = static_cast<int>(it.decodes);
      s.decode_context_sum = it.decode_context_sum;
      s.layers = all_layers ? m.layers : 1;
      s.sampled = static_cast<int>(it.decodes) + (it.prefill_tokens > 0 ? 1 : 0);
      apes.push_back(std::fabs(predict(cm.iteration(s)) - it.seconds) / it.seconds);
    }
    std::sort(apes.begin(), apes.end());
    return Json{{"median_ape", r6(pct(apes, 0.5))}, {"p95_ape", r6(pct(apes, 0.95))}, {"points", apes.size()}};
  };
  // kunsim-calibrate times a TP shard's iteration on one GPU: no all-reduce, no CPU time.
  report["iteration_check"] = check(p.iterations, "iterations.csv", true,
                                    [](const IterationCost& c) { return c.sum() - c.cpu - c.allreduce; });
  // One layer's attention for a mixed batch, against the sum of the separately fitted parts.
  if (!p.mixed_attention.empty())
    report["mixed_attention_check"] = check(p.mixed_attention, "attention_mixed.csv", false,
                                            [](const IterationCost& c) { return c.attn_prefill + c.attn_decode; });
  return report;
}

}  // namespace kunsim
