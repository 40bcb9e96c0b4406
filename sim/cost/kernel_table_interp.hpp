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

 private:
  std::vector<double> n_, k_;
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

// How a head shape is priced: from its own grid, or derived from a measured reference shape
// by the ratio of the work that bounds the kernel, applied above the reference's fixed cost:
//   t = floor + (t_ref - floor) * ratio
// where the work is FLOPs for prefill (heads x head_dim: the compute-bound kernel) and bytes
// read for decode (kv_heads x head_dim of KV per token, plus the queries: memory-bound).
struct AttentionCurve {
  const AttentionGrid* grid = nullptr;
  double ratio = 1.0;
  bool derived = false;
  HeadShape reference;
  double seconds(double batch, double len) const {
    const double t = grid->seconds(batch, len);
    return derived ? grid->floor() + (t - grid->floor()) * ratio : t;
  }
};

// An AttentionCurve read on the hot path: per whole batch size, the curve over length sampled
// once (every knot of the measured rows it blends, and 8 log-spaced points between knots) and
// read back by linear interpolation, so a lookup costs a binary search and no log or exp. The
// samples sit close enough that linear stands in for log-log within ~0.1%.
class TabulatedAttention {
 public:
  TabulatedAttention() = default;
  explicit TabulatedAttention(AttentionCurve curve) : curve_(curve) {}
  double seconds(int batch, double len) const;
  const AttentionCurve& curve() const { return curve_; }

 private:
  struct Row {
    std::vector<double> len, t;
    double tail_slope = 0;  // past the last sample: time grows linearly with length
  };
  const Row& row(int batch) const;
  AttentionCurve curve_;
  mutable std::vector<Row> rows_;  // by batch; empty until first read
};

class AttentionTable {
 public:
  AttentionTable() = default;
  AttentionTable(const std::vector<AttentionRow>& rows, bool decode);
  // The measured grid of `shape`, else the derivation from the nearest measured shape (the same
  // head_dim when there is one; then the smallest work ratio; then the nearest GQA group).
  // `exclude` leaves one measured shape out (to check the rule against it).
  AttentionCurve curve(const HeadShape& shape, const HeadShape* exclude = nullptr) const;
  bool empty() const { return grids_.empty(); }
  const std::map<HeadShape, AttentionGrid>& grids() const { return grids_; }
  double work(const HeadShape& s) const;

 private:
  std::map<HeadShape, AttentionGrid> grids_;
  bool decode_ = false;
};

}  // namespace kunsim
