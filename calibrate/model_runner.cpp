#include "calibrate/model_runner.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "kernels/cuda_check.hpp"
#include "kernels/elementwise.hpp"
#include "kernels/random_fill.hpp"

namespace kunsim::calibrate {

using gpu::bf16;
using gpu::DeviceBuffer;

namespace {

constexpr float kWeightScale = 0.02f;
constexpr float kNormEps = 1e-5f;

template <class T>
DeviceBuffer<T> upload(const std::vector<T>& h, cudaStream_t s) {
  DeviceBuffer<T> d(std::max<std::size_t>(1, h.size()));
  if (!h.empty()) KUNSIM_CUDA(cudaMemcpyAsync(d.get(), h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice, s));
  return d;
}

std::size_t free_bytes() {
  std::size_t free = 0, total = 0;
  KUNSIM_CUDA(cudaMemGetInfo(&free, &total));
  return free;
}

}  // namespace

ModelRunner::ModelRunner(const ModelShard& m, int max_tokens, cudaStream_t s, double weight_fraction,
                         double kv_fraction)
    : m_(m), max_tokens_(max_tokens), max_lm_rows_(std::min(max_tokens, 1024)), s_(s) {
  int dev = 0;
  KUNSIM_CUDA(cudaGetDevice(&dev));
  KUNSIM_CUDA(cudaDeviceGetAttribute(&sm_count_, cudaDevAttrMultiProcessorCount, dev));
  KUNSIM_CUDA(cudaDeviceGetAttribute(&l2_bytes_, cudaDevAttrL2CacheSize, dev));
  const std::size_t T = max_tokens;
  const std::size_t H = m.hidden;
  x_ = DeviceBuffer<bf16>(T * H);
  residual_ = DeviceBuffer<bf16>(T * H);
  normed_ = DeviceBuffer<bf16>(T * H);
  qkv_ = DeviceBuffer<bf16>(T * m.qkv_width());
  attn_ = DeviceBuffer<bf16>(T * m.attn_width());
  gate_up_ = DeviceBuffer<bf16>(T * 2 * m.ffn);
  act_ = DeviceBuffer<bf16>(T * m.ffn);
  logits_ = DeviceBuffer<bf16>(static_cast<std::size_t>(max_lm_rows_) * m.vocab);
  final_norm_ = DeviceBuffer<bf16>(H);
  lm_head_ = DeviceBuffer<bf16>(static_cast<std::size_t>(m.vocab) * H);
  inv_freq_ = upload(gpu::rope_inv_freq(500000.0), s);
  for (auto* b : {&x_, &residual_, &normed_, &qkv_, &attn_, &gate_up_, &act_})
    gpu::fill_random(b->get(), b->size(), 0x5eed + b->size(), 1.0f, s);
  gpu::fill_random(final_norm_.get(), H, 11, 1.0f, s);
  gpu::fill_random(lm_head_.get(), lm_head_.size(), 12, kWeightScale, s);

  const std::size_t layer_bytes = static_cast<std::size_t>(m.layer_elems()) * sizeof(bf16);
  // Every layer of the model, and more copies where its smallest matrix (a TP shard's O
  // projection, say) rotated over them would still fit in kL2Multiple x L2.
  const std::size_t smallest = sizeof(bf16) * std::min({H * m.qkv_width(), static_cast<std::size_t>(m.attn_width()) * H,
                                                         2 * H * m.ffn, H * m.ffn});
  const auto wanted = std::max<std::size_t>(
      m.layers, static_cast<std::size_t>(std::ceil(kL2Multiple * l2_bytes_ / static_cast<double>(smallest))));
  distinct_ = static_cast<int>(std::clamp<std::size_t>(
      static_cast<std::size_t>(weight_fraction * static_cast<double>(free_bytes())) / layer_bytes, 1, wanted));
  weights_ = DeviceBuffer<bf16>(static_cast<std::size_t>(m.layer_elems()) * distinct_);
  gpu::fill_random(weights_.get(), weights_.size(), 13, kWeightScale, s);
  for (int l = 0; l < distinct_; ++l) {
    bf16* p = weights_.get() + static_cast<std::size_t>(m.layer_elems()) * l;
    Layer w;
    w.qkv = p;
    p += H * m.qkv_width();
    w.o = p;
    p += static_cast<std::size_t>(m.attn_width()) * H;
    w.gate_up = p;
    p += 2 * H * m.ffn;
    w.down = p;
    p += H * m.ffn;
    w.norm1 = p;
    w.norm2 = p + H;
    layers_.push_back(w);
  }
  // Norm weights of order one, as trained models have them (not the 0.02 of the matrices).
  for (const auto& w : layers_) gpu::fill_random(w.norm1, 2 * H, 14, 1.0f, s);

  const std::size_t block_bytes = static_cast<std::size_t>(kBlockSize) * m.kv_bytes_per_token() / 2;  // K or V
  pool_blocks_ = static_cast<std::int64_t>(kv_fraction * static_cast<double>(free_bytes()) / (2.0 * block_bytes));
  k_pool_ = DeviceBuffer<bf16>(static_cast<std::size_t>(pool_blocks_) * block_bytes / sizeof(bf16));
  v_pool_ = DeviceBuffer<bf16>(k_pool_.size());
  gpu::fill_random(k_pool_.get(), k_pool_.size(), 15, 1.0f, s);
  gpu::fill_random(v_pool_.get(), v_pool_.size(), 16, 1.0f, s);
  pool_order_.resize(static_cast<std::size_t>(pool_blocks_));
  std::iota(pool_order_.begin(), pool_order_.end(), 0);
  std::shuffle(pool_order_.begin(), pool_order_.end(), std::mt19937(7));  // vLLM's blocks are scattered too
  KUNSIM_CUDA(cudaStreamSynchronize(s));
}

ModelRunner::~ModelRunner() = default;

void ModelRunner::gemm_qkv(int t, int i) { gemm_.linear(normed_.get(), layer(i).qkv, qkv_.get(), t, m_.qkv_width(), m_.hidden, s_); }
void ModelRunner::gemm_o(int t, int i) { gemm_.linear(attn_.get(), layer(i).o, x_.get(), t, m_.hidden, m_.attn_width(), s_); }
void ModelRunner::gemm_gate_up(int t, int i) {
  gemm_.linear(normed_.get(), layer(i).gate_up, gate_up_.get(), t, 2 * m_.ffn, m_.hidden, s_);
}
void ModelRunner::gemm_down(int t, int i) { gemm_.linear(act_.get(), layer(i).down, x_.get(), t, m_.hidden, m_.ffn, s_); }
void ModelRunner::gemm_lm_head(int rows) {
  gemm_.linear(normed_.get(), lm_head_.get(), logits_.get(), rows, m_.vocab, m_.hidden, s_);
}
void ModelRunner::silu_mul(int t) { gpu::silu_and_mul(act_.get(), gate_up_.get(), t, m_.ffn, s_); }
void ModelRunner::rmsnorm(int t, int i) {
  gpu::rms_norm(normed_.get(), x_.get(), residual_.get(), layer(i).norm1, t, m_.hidden, kNormEps, s_);
}

std::unique_ptr<ModelRunner::Batch> ModelRunner::prepare(const Composition& c, int min_regions) {
  auto b = std::make_unique<Batch>();
  b->tokens = c.tokens();
  if (b->tokens > max_tokens_ || b->tokens == 0) return nullptr;
  std::vector<int> lens;  // keys per sequence after this step
  for (const auto& p : c.prefills) lens.push_back(p.context + p.tokens);
  for (int d : c.decode_lens) lens.push_back(d);
  for (int len : lens) {
    const int blocks = (len + kBlockSize - 1) / kBlockSize;
    b->blocks_per_region += blocks;
    b->max_blocks = std::max(b->max_blocks, blocks);
  }
  // One copy's KV in bytes (K and V, this shard's heads): copies enough to span kL2Multiple x L2.
  const double region_bytes = static_cast<double>(b->blocks_per_region) * kBlockSize * m_.kv_bytes_per_token();
  constexpr std::int64_t kMaxRegions = 1 << 14;
  const std::int64_t wanted = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(kL2Multiple * l2_bytes_ / std::max(1.0, region_bytes))), min_regions, kMaxRegions);
  b->regions = static_cast<int>(std::min<std::int64_t>(wanted, pool_blocks_ / std::max<std::int64_t>(1, b->blocks_per_region)));
  if (b->regions < 1) return nullptr;
  b->num_prefills = static_cast<int>(c.prefills.size());
  b->num_decodes = static_cast<int>(c.decode_lens.size());

  // Block tables of every region: region r takes the next blocks of the shuffled pool order.
  const int nseq = static_cast<int>(lens.size());
  std::vector<int> tables(static_cast<std::size_t>(b->regions) * nseq * b->max_blocks, 0);
  std::size_t next = 0;
  for (int r = 0; r < b->regions; ++r)
    for (int q = 0; q < nseq; ++q)
      for (int k = 0; k < (lens[q] + kBlockSize - 1) / kBlockSize; ++k)
        tables[(static_cast<std::size_t>(r) * nseq + q) * b->max_blocks + k] = pool_order_[next++];

  std::vector<int> positions, slots, cu_q{0}, prefill_lens, prefill_tables, decode_tables, chunk_lens;
  for (int r = 0; r < b->regions; ++r) {
    int q = 0;
    auto add_tokens = [&](int first_pos, int count) {
      const int* table = &tables[(static_cast<std::size_t>(r) * nseq + q) * b->max_blocks];
      for (int j = 0; j < count; ++j) {
        const int pos = first_pos + j;
        if (r == 0) positions.push_back(pos);
        slots.push_back(table[pos / kBlockSize] * kBlockSize + pos % kBlockSize);
      }
      ++q;
    };
    for (const auto& p : c.prefills) add_tokens(p.context, p.tokens);
    for (int d : c.decode_lens) add_tokens(d - 1, 1);
    for (int p = 0; p < b->num_prefills; ++p) {
      const auto* t = &tables[(static_cast<std::size_t>(r) * nseq + p) * b->max_blocks];
      prefill_tables.insert(prefill_tables.end(), t, t + b->max_blocks);
    }
    for (int d = 0; d < b->num_decodes; ++d) {
      const auto* t = &tables[(static_cast<std::size_t>(r) * nseq + b->num_prefills + d) * b->max_blocks];
      decode_tables.insert(decode_tables.end(), t, t + b->max_blocks);
    }
  }
  for (const auto& p : c.prefills) {
    cu_q.push_back(cu_q.back() + p.tokens);
    prefill_lens.push_back(p.context + p.tokens);
    chunk_lens.push_back(p.tokens);
  }
  b->prefill_tokens = cu_q.back();
  const std::vector<int2> tiles = gpu::prefill_tiles(chunk_lens);
  b->num_tiles = static_cast<int>(tiles.size());
  b->positions = upload(positions, s_);
  b->slots = upload(slots, s_);
  b->cu_q = upload(cu_q, s_);
  b->prefill_lens = upload(prefill_lens, s_);
  b->prefill_tables = upload(prefill_tables, s_);
  b->tiles = upload(tiles, s_);
  b->decode_lens = upload(c.decode_lens, s_);
  b->decode_tables = upload(decode_tables, s_);
  const int max_decode = c.decode_lens.empty() ? 1 : *std::max_element(c.decode_lens.begin(), c.decode_lens.end());
  b->split = gpu::choose_decode_split(b->num_decodes, m_.kv_heads, max_decode, sm_count_);
  b->workspace = DeviceBuffer<float>(std::max<std::size_t>(1, gpu::decode_workspace_floats(b->num_decodes, m_.q_heads, b->split.splits)));
  KUNSIM_CUDA(cudaStreamSynchronize(s_));
  return b;
}

void ModelRunner::rope_cache(Batch& b, int i) {
  const int r = i % b.regions;
  const gpu::PagedKv kv{k_pool_.get(), v_pool_.get(), kBlockSize, m_.kv_heads};
  gpu::write_kv_rope(qkv_.get(), b.tokens, m_.q_heads, b.positions.get(), b.slots.get() + static_cast<std::size_t>(r) * b.tokens,
                     inv_freq_.get(), kv, s_);
}

void ModelRunner::attention(Batch& b, int i) {
  const int r = i % b.regions;
  const gpu::PagedKv kv{k_pool_.get(), v_pool_.get(), kBlockSize, m_.kv_heads};
  const gpu::AttentionHeads h{m_.q_heads, m_.kv_heads, 0.08838834764831845f};  // 1/sqrt(128)
  if (b.num_prefills > 0) {
    gpu::PrefillBatch p;
    p.q = qkv_.get();
    p.q_stride = m_.qkv_width();
    p.out = attn_.get();
    p.out_stride = m_.attn_width();
    p.cu_q = b.cu_q.get();
    p.kv_lens = b.prefill_lens.get();
    p.block_tables = b.prefill_tables.get() + static_cast<std::size_t>(r) * b.num_prefills * b.max_blocks;
    p.max_blocks = b.max_blocks;
    p.tiles = b.tiles.get();
    p.num_tiles = b.num_tiles;
    gpu::prefill_attention(p, kv, h, s_);
  }
  if (b.num_decodes > 0) {
    gpu::DecodeBatch d;
    d.q = qkv_.get() + static_cast<std::size_t>(b.prefill_tokens) * m_.qkv_width();
    d.q_stride = m_.qkv_width();
    d.out = attn_.get() + static_cast<std::size_t>(b.prefill_tokens) * m_.attn_width();
    d.out_stride = m_.attn_width();
    d.kv_lens = b.decode_lens.get();
    d.block_tables = b.decode_tables.get() + static_cast<std::size_t>(r) * b.num_decodes * b.max_blocks;
    d.max_blocks = b.max_blocks;
    d.num_seqs = b.num_decodes;
    d.split = b.split;
    d.workspace = b.workspace.get();
    gpu::decode_attention(d, kv, h, s_);
  }
}

void ModelRunner::iteration(Batch& b) {
  const int t = b.tokens;
  for (int l = 0; l < m_.layers; ++l) {
    const Layer& w = layer(l);
    gpu::rms_norm(normed_.get(), x_.get(), residual_.get(), w.norm1, t, m_.hidden, kNormEps, s_);
    gemm_qkv(t, l);
    rope_cache(b, l);
    attention(b, l);
    gemm_o(t, l);
    gpu::rms_norm(normed_.get(), x_.get(), residual_.get(), w.norm2, t, m_.hidden, kNormEps, s_);
    gemm_gate_up(t, l);
    silu_mul(t);
    gemm_down(t, l);
  }
  gpu::rms_norm(normed_.get(), x_.get(), residual_.get(), final_norm_.get(), t, m_.hidden, kNormEps, s_);
  gemm_lm_head(std::min(b.num_prefills + b.num_decodes, max_lm_rows_));
}

}  // namespace kunsim::calibrate
