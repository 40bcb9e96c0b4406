// Interpolation in a profile's kernel tables (kernel_tables.hpp), built once per cost model.
// GemmTable: log-log in m, n and k. Each measured (n, k) pair has a robust monotone curve over m
// (Interpolator1D); a query blends the four (n, k) grid corners around it bilinearly in log n,
// log k and log time. Past the grid's largest n or k, time grows linearly (throughput-bound);
// below the smallest, the smallest's time holds (launch-bound floor).
// AttentionGrid: one head shape's times over (batch, length): a robust log-log curve over
// length per measured batch, blended across batch in log-log space, linear past the largest.
// AttentionTable: the grids of every measured head shape, and the rule for shapes the table
// lacks (derived()).
#pragma once
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "sim/cost/interpolator.hpp"
#include "sim/cost/kernel_tables.hpp"

namespace kunsim {

// A GEMM's time over m at one (n, k), as the cost models read it per token count: one curve, or
// where the table is read by m's alignment (GemmTable's `align`), one for m a multiple of it and
// one for the rest.
struct GemmCurve {
  Interpolator1D rest, aligned;
  int align = 0;
  double at(double m) const { return align > 0 && std::fmod(m, align) == 0 ? aligned.at(m) : rest.at(m); }
  bool empty() const { return rest.empty() && aligned.empty(); }
};

class GemmTable {
 public:
  GemmTable() = default;
  // align > 0: m that are multiples of `align` and the others are read from separate grids, for
  // kernels whose time depends on it throughout (DeepGEMM's fp8_block GEMMs want m a multiple of
  // 4, the alignment of their TMA-loaded scales: on B200 every unaligned m the tables measure
  // takes 1.3x its aligned neighbour, at m = 5 as at m = 4097). A smooth curve through both
  // would be wrong for each by 15%.
  explicit GemmTable(const std::vector<GemmRow>& rows, int align = 0);
  double seconds(double m, double n, double k) const;
  bool empty() const { return n_.empty() && !aligned_; }
  // The time over m of one (n, k): the corner curves blended once at every m any of them was
  // measured at. Log-log interpolation between those knots is the same blend seconds() computes
  // (each corner is log-linear between them), at one search and one exp per read.
  GemmCurve curve(double n, double k) const;

 private:
  Interpolator1D grid_curve(double n, double k) const;
  double grid_seconds(double m, double n, double k) const;
  std::vector<double> n_, k_, m_;  // m_: every m measured at any (n, k)
  std::vector<Interpolator1D> curves_;  // [ni * k_.size() + ki]: time over m (empty where unmeasured)
  int align_ = 0;
  std::shared_ptr<const GemmTable> aligned_;  // align_ > 0: the grid of aligned m (this one: the rest)
};

class AttentionGrid {
 public:
  AttentionGrid() = default;
  explicit AttentionGrid(const std::vector<AttentionRow>& rows);  // rows of one head shape
  double seconds(double batch, double len) const;
  double floor() const { return floor_; }  // the fastest measured call: the kernel's fixed cost
  // Every length a measured row has a point at (sorted, distinct).
  std::vector<double> knots() const;

 private:
  std::vector<double> batch_;
  std::vector<Interpolator1D> rows_;
  std::vector<double> knots_;
  double floor_ = 0;
};

// How a head shape is priced: from its own grid, or derived from a measured reference shape by
// equal work. The reference is read at the batch that does this shape's work:
//   t(batch, len) = t_ref(batch * batch_scale, len)
// where batch_scale is the ratio of the work per sequence that bounds the kernel: bytes of KV read
// for decode (kv_heads x head_dim: memory-bound), FLOPs for prefill (heads x head_dim:
// compute-bound). So 32/32 at batch b is 8/8 at batch 4b: the same bytes, and (same GQA group)
// the same thread blocks per byte. Scaling a small shape's *time* instead would charge it as if
// it were bandwidth bound, which a kernel with few heads at a small batch is far from.
// Below the reference's batch 1 (a smaller shape from a larger one), the share of batch 1's time
// above the kernel's fixed cost.
struct AttentionCurve {
  const AttentionGrid* grid = nullptr;
  double batch_scale = 1.0;
  bool derived = false;
  HeadShape reference;
  double seconds(double batch, double len) const {
    if (!derived) return grid->seconds(batch, len);
    const double ref_batch = batch * batch_scale;
    if (ref_batch >= 1) return grid->seconds(ref_batch, len);
    return grid->floor() + (grid->seconds(1, len) - grid->floor()) * ref_batch;
  }
};

// An AttentionCurve read on the hot path: per whole batch size, the curve over length sampled
// once (every knot of the measured rows it blends, and 8 evenly spaced points between knots) and
// read back by linear interpolation, so a lookup finds its knot segment (the last one used, else
// a binary search over the knots) and indexes into it: no log or exp. Knots are at most 2x apart
// in the tables, so 8 linear pieces stand in for the log-log curve within ~0.5%.
class TabulatedAttention {
 public:
  TabulatedAttention() = default;
  explicit TabulatedAttention(AttentionCurve curve) : curve_(curve) {
    if (curve_.grid) knots_ = curve_.grid->knots();
  }
  double seconds(int batch, double len) const;
  const AttentionCurve& curve() const { return curve_; }

 private:
  static constexpr int kSteps = 8;  // samples per knot segment
  struct Row {
    std::vector<double> t;   // t[seg * kSteps + j]: at knots[seg] + j/kSteps of the segment
    double tail_slope = 0;   // past the last knot: time grows linearly with length
    mutable std::size_t seg = 0;  // the segment of the last lookup (lengths change slowly)
  };
  std::vector<double> knots_;
  const Row& row(int batch) const;
  AttentionCurve curve_;
  mutable std::vector<Row> rows_;  // by batch; empty until first read
};

class AttentionTable {
 public:
  AttentionTable() = default;
  AttentionTable(const std::vector<AttentionRow>& rows, bool decode);
  // The measured grid of `shape`, else the derivation from the nearest measured shape: the same
  // head_dim when there is one; then the nearest in GQA group (heads per KV head, weighted 2x)
  // and work ratio together.
  // `usable` limits the references (to check the rule against a measured shape left out).
  AttentionCurve curve(const HeadShape& shape, const std::function<bool(const HeadShape&)>& usable = {}) const;
  bool empty() const { return grids_.empty(); }
  const std::map<HeadShape, AttentionGrid>& grids() const { return grids_; }
  double work(const HeadShape& s) const;

 private:
  std::map<HeadShape, AttentionGrid> grids_;
  bool decode_ = false;
};

// MoeTable: one MoE layer's time over tokens per measured configuration (MoeShape), a robust
// log-log curve each, as the GEMMs are read over m: the launch-bound floor below the fewest
// tokens, linear growth past the most.
class MoeTable {
 public:
  MoeTable() = default;
  explicit MoeTable(const std::vector<MoeRow>& rows);
  // The configuration's curve (seconds over tokens), or null where the table lacks it.
  const Interpolator1D* curve(const MoeShape& shape) const;
  bool empty() const { return curves_.empty(); }
  const std::map<MoeShape, Interpolator1D>& curves() const { return curves_; }

 private:
  std::map<MoeShape, Interpolator1D> curves_;
};

// MlaTable: one MLA configuration's times over (batch, length), an AttentionGrid each (context
// and generation tables are separate MlaTables).
class MlaTable {
 public:
  MlaTable() = default;
  explicit MlaTable(const std::vector<MlaRow>& rows);
  // The configuration's grid, or null where the table lacks it.
  const AttentionGrid* grid(const MlaShape& shape) const;
  bool empty() const { return grids_.empty(); }
  const std::map<MlaShape, AttentionGrid>& grids() const { return grids_; }

 private:
  std::map<MlaShape, AttentionGrid> grids_;
};

}  // namespace kunsim

#include <mutex>

namespace kunsim {

// The interpolation tables of a profile's kernel tables, built once per profile when it is read
// and shared by every cost model priced from it (a sweep builds thousands). The bf16 tables are
// built at once; the optional ones (fp8, MoE) the first time a cost model asks, once, whichever
// thread asks (sweeps build cost models on several); a table the profile lacks is empty.
// The m alignment a dtype's GEMM table is read by (GemmTable's `align`): 4 for fp8_block, else 0.
int gemm_alignment(Dtype weights);

class KernelTableIndex {
 public:
  explicit KernelTableIndex(const KernelTables& t)
      : gemm(t.gemm), prefill(t.prefill, false), decode(t.decode, true), optional_(t.optional), dir_(t.dir) {}
  GemmTable gemm;
  AttentionTable prefill, decode;

  const GemmTable& gemm_of(Dtype weights) const;
  const AttentionTable& prefill_of(Dtype kv_cache) const { return attention_of(kv_cache, false); }
  const AttentionTable& decode_of(Dtype kv_cache) const { return attention_of(kv_cache, true); }
  const MoeTable& moe() const;
  const MlaTable& mla(bool generation) const;

 private:
  template <class T>
  struct Lazy {
    std::once_flag once;
    T table;
  };
  const AttentionTable& attention_of(Dtype kv_cache, bool decode) const;
  // The optional file's text, or "" when the profile has none.
  const std::string& text(const char* file) const;
  std::shared_ptr<const std::map<std::string, std::string>> optional_;
  std::string dir_;
  mutable Lazy<GemmTable> fp8_, fp8_block_;
  mutable Lazy<AttentionTable> prefill_fp8kv_, decode_fp8kv_;
  mutable Lazy<MoeTable> moe_;
  mutable Lazy<MlaTable> mla_context_, mla_generation_;
};

}  // namespace kunsim
