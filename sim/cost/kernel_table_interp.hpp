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
#include <functional>
#include <map>
#include <vector>

#include "sim/cost/interpolator.hpp"
#include "sim/cost/kernel_tables.hpp"

namespace kunsim {

class GemmTable {
 public:
  GemmTable() = default;
  explicit GemmTable(const std::vector<GemmRow>& rows);
  double seconds(double m, double n, double k) const;
  bool empty() const { return n_.empty(); }
  // The time over m of one (n, k): the corner curves blended once at every m any of them was
  // measured at. Log-log interpolation between those knots is the same blend seconds() computes
  // (each corner is log-linear between them), at one search and one exp per read.
  Interpolator1D curve(double n, double k) const;

 private:
  std::vector<double> n_, k_, m_;  // m_: every m measured at any (n, k)
  std::vector<Interpolator1D> curves_;  // [ni * k_.size() + ki]: time over m (empty where unmeasured)
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

}  // namespace kunsim

namespace kunsim {

// The interpolation tables of a profile's kernel tables, built once per profile when it is read
// and shared by every cost model priced from it (a sweep builds thousands).
struct KernelTableIndex {
  explicit KernelTableIndex(const KernelTables& t) : gemm(t.gemm), prefill(t.prefill, false), decode(t.decode, true) {}
  GemmTable gemm;
  AttentionTable prefill, decode;
};

}  // namespace kunsim
