// Calibration: runs the grid of grid.hpp on this GPU through ModelRunner and Transfers, timing
// with OpTimer, and hands each median to a ProfileWriter. Also measures the two ceilings a
// kernel is judged against (a large device copy, a large cuBLASLt GEMM) and reports decode
// attention's bandwidth and prefill attention's FLOP/s against them.
#pragma once
#include <cuda_runtime.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <functional>
#include <optional>

#include "calibrate/grid.hpp"
#include "calibrate/model_shard.hpp"
#include "calibrate/op_timer.hpp"
#include "calibrate/profile_writer.hpp"

namespace kunsim::calibrate {

struct CalibrationOptions {
  bool quick = false;
  std::optional<Grid> grid;  // --grid FILE: these shapes instead of the built-in grid
  TimerOptions timer;
  std::FILE* log = stdout;
  // Called after each op family (gemm_qkv, attn_decode, ...) with its name, so rows are saved as
  // they are measured: a run killed mid-model keeps every family it finished.
  std::function<void(const char* family)> checkpoint;
};

class Calibration {
 public:
  Calibration(ProfileWriter& out, CalibrationOptions o);
  ~Calibration();
  Calibration(const Calibration&) = delete;
  Calibration& operator=(const Calibration&) = delete;

  // {"d2d_bytes_per_s", "gemm_bf16_flop_per_s"} (bytes read plus written; 8192^3 GEMM).
  nlohmann::json ceilings();
  // Every op of one model shard, then whole iterations; returns the run's meta entry.
  nlohmann::json model(const ModelShard& m, const nlohmann::json& ceilings);
  // memcpy H2D/D2H/D2D, and with two GPUs or more, P2P, NCCL all-reduce (2..n ranks) and send.
  nlohmann::json transfers();

 private:
  ProfileWriter& out_;
  CalibrationOptions o_;
  cudaStream_t s_ = nullptr;
};

}  // namespace kunsim::calibrate
