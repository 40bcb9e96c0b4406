#include "sim/cost/kernel_table_fit.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "sim/cluster/gpu_spec.hpp"
#include "sim/cost/kernel_table_interp.hpp"
#include "sim/cost/roofline_cost_model.hpp"

namespace kunsim {
namespace {

double r6(double x) { return std::round(x * 1e6) / 1e6; }

// Absolute percentage errors, summarised.
struct Errors {
  double sum = 0;
  std::size_t n = 0, points = 0;
  void add(double predicted, double measured) {
    sum += std::fabs(predicted - measured) / measured;
    ++n;
  }
  std::size_t outliers = 0;
  Json json() const {
    return {{"heldout_mape", r6(n ? sum / n : 0.0)}, {"points", points}, {"heldout", n}, {"outliers", outliers}};
  }
  double mape() const { return n ? sum / n : 0.0; }
};

// Splits rows into curves by `curve_key` (ordered by `x` within a curve) and holds back every
// fifth interior point of each (of 6 points or more). Points the whole curve contradicts (robust_monotone's outliers,
// which the interpolation built from all of them drops too) are neither trained on nor scored;
// `outliers` counts them.
template <class Row, class Key, class X>
std::pair<std::vector<Row>, std::vector<Row>> hold_out(const std::vector<Row>& rows, Key curve_key, X x,
                                                       std::size_t* outliers = nullptr) {
  std::map<decltype(curve_key(rows.front())), std::vector<const Row*>> curves;
  for (const auto& r : rows) curves[curve_key(r)].push_back(&r);
  std::vector<Row> train, held;
  for (auto& [k, pts] : curves) {
    std::sort(pts.begin(), pts.end(), [&](const Row* a, const Row* b) { return x(*a) < x(*b); });
    std::vector<std::pair<double, double>> xy;
    for (const Row* p : pts) xy.emplace_back(x(*p), p->us);
    std::vector<bool> out;
    robust_monotone(xy, &out);
    for (std::size_t i = 0; i < pts.size(); ++i) {
      if (out[i]) {
        if (outliers) ++*outliers;
        continue;
      }
      // Only curves of 6 points or more lend one: holding a point of a shorter one back would
      // test a gap several times wider than any the interpolation is used across.
      (pts.size() >= 6 && i % 5 == 2 && i + 1 < pts.size() ? held : train).push_back(*pts[i]);
    }
  }
  return {train, held};
}

// Every measured shape that `usable(shape, reference)` leaves a reference for, priced by
// AttentionTable::curve's rule from those references alone, against its own measurements.
Json derivation_check(const AttentionTable& all, const std::vector<AttentionRow>& rows,
                      const std::function<bool(const HeadShape&, const HeadShape&)>& usable) {
  Errors d;
  double worst = 0;
  HeadShape worst_shape;
  std::size_t shapes = 0;
  for (const auto& [shape, grid] : all.grids()) {
    const AttentionCurve c = all.curve(shape, [&](const HeadShape& s) { return usable(shape, s); });
    if (!c.grid) continue;  // nothing to derive it from
    ++shapes;
    Errors one;
    for (const auto& r : rows)
      if (r.shape == shape) {
        const double t = c.seconds(r.batch, r.len);
        one.add(t, r.us * 1e-6);
        d.add(t, r.us * 1e-6);
      }
    if (one.mape() > worst) worst = one.mape(), worst_shape = shape;
  }
  return {{"mape", r6(d.mape())}, {"shapes", shapes}, {"worst_shape", worst_shape.text()}, {"worst_mape", r6(worst)}};
}

Json attention_check(const std::vector<AttentionRow>& rows, bool decode, Json& derived) {
  Errors e;
  e.points = rows.size();
  const auto [train, held] = hold_out(
      rows, [](const AttentionRow& r) { return std::make_tuple(r.shape, r.batch); },
      [](const AttentionRow& r) { return r.len; }, &e.outliers);
  const AttentionTable t(train, decode);
  for (const auto& h : held) e.add(t.curve(h.shape).seconds(h.batch, h.len), h.us * 1e-6);
  // Each measured shape, priced as if absent: from the rule's own pick, and from a shape with a
  // quarter of its KV heads (the jump from a GQA table to an MHA model's shard).
  const AttentionTable all(rows, decode);
  derived = derivation_check(all, rows, [](const HeadShape& target, const HeadShape& s) { return s != target; });
  derived["kv_heads_4x"] = derivation_check(all, rows, [](const HeadShape& target, const HeadShape& s) {
    return s.kv_heads * 4 == target.kv_heads && s.head_dim == target.head_dim;
  });
  return e.json();
}

// GEMMs over m: every fifth interior point of each (n, k) curve held back.
Json gemm_over_m(const std::vector<GemmRow>& rows, int align = 0) {
  Errors e;
  e.points = rows.size();
  // Curves as the table reads them: per (n, k), and per alignment class where it splits them.
  const auto [train, held] = hold_out(
      rows, [align](const GemmRow& r) { return std::make_tuple(r.n, r.k, align > 0 && std::fmod(r.m, align) == 0); },
      [](const GemmRow& r) { return r.m; }, &e.outliers);
  const GemmTable t(train, align);
  for (const auto& h : held) e.add(t.seconds(h.m, h.n, h.k), h.us * 1e-6);
  return e.json();
}

// MoE layers over tokens, each configuration's curve as MoeTable reads it.
Json moe_over_tokens(const std::vector<MoeRow>& rows) {
  Errors e;
  e.points = rows.size();
  const auto [train, held] = hold_out(
      rows, [](const MoeRow& r) { return r.shape; }, [](const MoeRow& r) { return r.tokens; }, &e.outliers);
  const MoeTable t(train);
  for (const auto& h : held) e.add(t.curve(h.shape)->at(h.tokens), h.us * 1e-6);
  return e.json();
}

// MLA over length, each configuration's curve per batch held out as the attention tables are.
Json mla_over_len(const std::vector<MlaRow>& rows) {
  Errors e;
  e.points = rows.size();
  const auto [train, held] = hold_out(
      rows, [](const MlaRow& r) { return std::make_tuple(r.shape, r.batch); }, [](const MlaRow& r) { return r.len; },
      &e.outliers);
  const MlaTable t(train);
  for (const auto& h : held) e.add(t.grid(h.shape)->seconds(h.batch, h.len), h.us * 1e-6);
  return e.json();
}

}  // namespace

Json kernel_table_fit_report(const Profile& p, const RooflineParams& roofline) {
  const KernelTables& k = p.kernels;
  Json report;
  report["gpu"] = p.meta.value("gpu", std::string("unknown"));
  report["profile"] = p.describe();
  report["ops"] = Json::object();

  report["ops"]["gemm"] = gemm_over_m(k.gemm);
  {  // GEMM across n and k: every other interior grid line held back
    std::set<double> ns, ks;
    for (const auto& r : k.gemm) ns.insert(r.n), ks.insert(r.k);
    auto held_lines = [](const std::set<double>& axis) {
      std::set<double> held;
      std::size_t i = 0;
      for (auto it = axis.begin(); it != axis.end(); ++it, ++i)
        if (i % 2 == 1 && std::next(it) != axis.end()) held.insert(*it);
      return held;
    };
    const auto hn = held_lines(ns), hk = held_lines(ks);
    std::vector<GemmRow> train, held;
    for (const auto& r : k.gemm) {
      const bool out_n = hn.count(r.n) != 0, out_k = hk.count(r.k) != 0;
      if (out_n && out_k) continue;  // neither axis would be on the grid: a 2-D blend, not checked here
      (out_n || out_k ? held : train).push_back(r);
    }
    Errors e;
    e.points = k.gemm.size();
    const GemmTable t(train);
    for (const auto& h : held) e.add(t.seconds(h.m, h.n, h.k), h.us * 1e-6);
    report["ops"]["gemm_nk"] = e.json();
  }
  Json derived_prefill, derived_decode;
  report["ops"]["attn_prefill"] = attention_check(k.prefill, false, derived_prefill);
  report["ops"]["attn_decode"] = attention_check(k.decode, true, derived_decode);
  report["derived_shape_check"] = {{"attn_prefill", derived_prefill}, {"attn_decode", derived_decode}};
  // The optional families (fp8 GEMMs, attention on an fp8 KV cache, MoE layers), by the same rule.
  const auto optional = [&](const char* file) -> const std::string* {
    const auto it = k.optional->find(file);
    return it == k.optional->end() ? nullptr : &it->second;
  };
  for (const char* dtype : {"fp8", "fp8_block"}) {
    const std::string file = std::string("gemm_") + dtype + ".csv";
    if (const std::string* text = optional(file.c_str()))
      report["ops"]["gemm_" + std::string(dtype)] =
          gemm_over_m(parse_gemm_rows(*text, k.dir + "/" + file), gemm_alignment(dtype_from_name(dtype)));
  }
  for (const bool decode : {false, true}) {
    const std::string name = decode ? "attn_decode_fp8kv" : "attn_prefill_fp8kv";
    if (const std::string* text = optional((name + ".csv").c_str())) {
      Json derived_fp8kv;  // the shape derivation is the bf16 tables' check; not repeated
      report["ops"][name] =
          attention_check(parse_attention_rows(*text, k.dir + "/" + name + ".csv", decode), decode, derived_fp8kv);
    }
  }
  if (const std::string* text = optional("moe.csv"))
    report["ops"]["moe"] = moe_over_tokens(parse_moe_rows(*text, k.dir + "/moe.csv"));
  for (const char* name : {"mla_context", "mla_generation"})
    if (const std::string* text = optional((std::string(name) + ".csv").c_str()))
      report["ops"][name] = mla_over_len(parse_mla_rows(*text, k.dir + "/" + name + ".csv"));
  {  // Where the two attention tables measure nearly the same work: a 1-token prompt, and a
     // decode of the smallest context (1 cached token and the new one). The composition adds
     // prefill and decode parts, so they should agree there.
    std::map<std::tuple<HeadShape, int>, double> decode_at_1;
    for (const auto& r : k.decode)
      if (r.len <= 2) decode_at_1[{r.shape, r.batch}] = r.us;
    Errors e;
    for (const auto& r : k.prefill)
      if (r.len == 1)
        if (const auto it = decode_at_1.find({r.shape, r.batch}); it != decode_at_1.end()) e.add(r.us, it->second);
    report["table_overlap_check"] = {{"mape", r6(e.mape())}, {"points", e.n},
                                     {"what", "prefill of 1-token prompts against decode at the smallest context, same shape and batch"}};
  }
  {  // all-reduce per implementation and GPU count
    std::map<std::string, Errors> by;
    for (const auto& r : k.allreduce) ++by[r.impl + "@" + std::to_string(r.gpus)].points;
    std::size_t outliers = 0;
    const auto [train, held] = hold_out(
        k.allreduce, [](const AllreduceRow& r) { return std::make_pair(r.impl, r.gpus); },
        [](const AllreduceRow& r) { return r.bytes; }, &outliers);
    for (const auto& h : held) {
      std::vector<std::pair<double, double>> xy;
      for (const auto& t : train)
        if (t.impl == h.impl && t.gpus == h.gpus) xy.emplace_back(t.bytes, t.us * 1e-6);
      by[h.impl + "@" + std::to_string(h.gpus)].add(Interpolator1D(std::move(xy)).at(h.bytes), h.us * 1e-6);
    }
    for (const auto& [name, e] : by) report["ops"]["allreduce_" + name] = e.json();
    report["allreduce_outliers"] = outliers;
  }

  // The roofline against every table point, with and without its fixed costs.
  const std::string kind = p.meta.value("kind", std::string());
  const auto* known = gpu_registry().find(kind);
  if (const GpuSpec* gpu = known ? &known->entry : nullptr) {
    ModelSpec m;
    m.hidden = m.heads = m.kv_heads = m.head_dim = m.ffn = m.vocab = 1;
    const RooflineParams floors = roofline;
    RooflineParams bare = floors;
    bare.gemm_latency_us = bare.attention_latency_us = 2.0;  // the single launch it charged before
    bare.attention_half_len = 0;
    bare.attention_efficiency = 0.55;
    bare.nccl_latency_us = bare.custom_latency_us = bare.custom_eager_latency_us = 8.0;
    bare.nccl_efficiency = bare.custom_efficiency = 1.0;
    bare.nccl_half_bytes = 0;
    bare.attention_memory_efficiency = bare.memory_efficiency;
    for (const auto& [key, params] : {std::pair{"roofline", floors}, std::pair{"roofline_without_floors", bare}}) {
      const RooflineCostModel r(m, *gpu, {gpu->nvlink_bytes_per_s, 0}, 1, params);
      std::map<std::string, Errors> fam;
      for (const auto& g : k.gemm) fam["gemm"].add(r.gemm(g.m, g.k, g.n), g.us * 1e-6);
      for (const auto& a : k.prefill)
        fam["attn_prefill"].add(r.prefill_attention(std::vector<PrefillChunk>(a.batch, PrefillChunk{a.len, 0}),
                                                    a.shape.heads, a.shape.kv_heads, a.shape.head_dim),
                                a.us * 1e-6);
      for (const auto& a : k.decode)
        fam["attn_decode"].add(r.decode_attention(a.batch, a.len, a.shape.heads, a.shape.kv_heads, a.shape.head_dim),
                               a.us * 1e-6);
      for (const auto& a : k.allreduce) fam["allreduce_" + a.impl].add(r.allreduce(a.impl, a.gpus, a.bytes), a.us * 1e-6);
      Json out = Json::object();
      for (const auto& [name, e] : fam) out[name] = {{"mape", r6(e.mape())}, {"points", e.n}};
      report[key] = out;
    }
  }
  report["note"] = "no whole-iteration data: these tables time single kernels; the iteration check needs a profile measured "
                   "by kunsim-calibrate (iterations.csv)";
  return report;
}

}  // namespace kunsim
