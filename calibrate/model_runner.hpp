// ModelRunner: one TP shard of a model on one GPU, with random weights, activations for up to
// `max_tokens` tokens, and a paged KV pool: the kernels of kernels/ composed the way a serving
// engine runs a forward pass. The harness times single ops through it (rotating through
// distinct layers' weights and distinct copies of the KV, so nothing is timed out of L2 that a
// real iteration would not find there) and whole iterations (every layer, then the LM head).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "calibrate/grid.hpp"
#include "calibrate/model_shard.hpp"
#include "kernels/attention.hpp"
#include "kernels/device_buffer.hpp"
#include "kernels/gemm.hpp"

namespace kunsim::calibrate {

class ModelRunner {
 public:
  static constexpr int kBlockSize = 16;

  // Weights take at most `weight_fraction` of free memory (fewer distinct layers, re-used in
  // turn, if the whole shard does not fit); the KV pool `kv_fraction` of what is left.
  ModelRunner(const ModelShard& m, int max_tokens, cudaStream_t s, double weight_fraction = 0.45,
              double kv_fraction = 0.85);
  ~ModelRunner();

  const ModelShard& shard() const { return m_; }
  int distinct_layers() const { return distinct_; }
  std::int64_t pool_blocks() const { return pool_blocks_; }
  int max_tokens() const { return max_tokens_; }
  int max_lm_rows() const { return max_lm_rows_; }

  // Single ops over `tokens` rows; `i` picks the layer whose weights are used (mod distinct).
  void gemm_qkv(int tokens, int i);
  void gemm_o(int tokens, int i);
  void gemm_gate_up(int tokens, int i);
  void gemm_down(int tokens, int i);
  void gemm_lm_head(int rows);
  void silu_mul(int tokens);
  void rmsnorm(int tokens, int i);

  // Device metadata of one composition, with `regions` disjoint copies of its KV in the pool.
  struct Batch {
    int tokens = 0, prefill_tokens = 0, num_prefills = 0, num_decodes = 0, max_blocks = 0, regions = 0;
    std::int64_t blocks_per_region = 0;
    gpu::DeviceBuffer<int> positions, slots;                  // slots: [regions][tokens]
    gpu::DeviceBuffer<int> cu_q, prefill_lens, prefill_tables;  // tables: [regions][prefills][max_blocks]
    gpu::DeviceBuffer<int2> tiles;
    int num_tiles = 0;
    gpu::DeviceBuffer<int> decode_lens, decode_tables;
    gpu::DecodeSplit split;
    gpu::DeviceBuffer<float> workspace;
  };
  // At least `min_regions` copies of the composition's KV, and enough that they span
  // kL2Multiple x the L2 cache (as the pool allows). Null when even one copy does not fit.
  std::unique_ptr<Batch> prepare(const Composition& c, int min_regions);
  void rope_cache(Batch& b, int i);
  void attention(Batch& b, int i);  // the prefill launch, then the decode launch (copy i % regions)
  void iteration(Batch& b);         // every layer, the final norm and the LM head

  gpu::Gemm& gemm() { return gemm_; }

 private:
  struct Layer {
    gpu::bf16 *qkv, *o, *gate_up, *down, *norm1, *norm2;
  };
  const Layer& layer(int i) const { return layers_[static_cast<std::size_t>(i) % layers_.size()]; }

  ModelShard m_;
  int max_tokens_, max_lm_rows_;
  cudaStream_t s_;
  gpu::Gemm gemm_;
  int distinct_ = 1;
  gpu::DeviceBuffer<gpu::bf16> weights_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
  gpu::DeviceBuffer<gpu::bf16> x_, residual_, normed_, qkv_, attn_, gate_up_, act_, logits_;
  gpu::DeviceBuffer<float> inv_freq_;
  std::int64_t pool_blocks_ = 0;
  gpu::DeviceBuffer<gpu::bf16> k_pool_, v_pool_;
  std::vector<int> pool_order_;  // physical blocks in a fixed shuffled order
  int sm_count_ = 132;
  int l2_bytes_ = 0;
  // Rotations span at least this many times the L2 cache: each timed launch reads weights and
  // KV that no launch before it left in L2, as in a real iteration over every layer.
  static constexpr double kL2Multiple = 3.0;
};

}  // namespace kunsim::calibrate
