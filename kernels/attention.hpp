// Attention over a paged KV cache, bf16, head_dim 128 (every model in the catalogue):
//   prefill_attention  causal, GQA, variable-length chunks in one launch, each chunk extending
//                      the context already cached (chunked prefill); FlashAttention-2 style
//                      tiling on tensor cores (mma.sync m16n8k16), online softmax in registers.
//   decode_attention   one new token per sequence, per-sequence context lengths, GQA (a block
//                      reads each K/V row once for all the query heads sharing it), split-K over
//                      the context for long sequences (FlashDecoding), combined in a second pass.
//   write_kv_rope      the step before both: rotary embedding (neox pairs) on q and k, and k, v
//                      written into the cache at each token's slot (vLLM's reshape_and_cache).
// A mixed batch (prefill chunks plus decodes, as vLLM's chunked prefill runs it) is one
// write_kv_rope over all new tokens, then one prefill and one decode launch on the same stream.
//
// Layouts. Cache: k and v each [num_blocks][block_size][kv_heads][128]. Queries come straight
// out of the QKV projection: token t's head h at q + t*q_stride + h*128. Block tables: int
// [num_seqs][max_blocks], entry b = the physical block of the sequence's keys b*block_size...
#pragma once
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "kernels/bf16.hpp"
#include "kernels/cuda_check.hpp"

namespace kunsim::gpu {

constexpr int kHeadDim = 128;

struct PagedKv {
  bf16* k = nullptr;
  bf16* v = nullptr;
  int block_size = 16;  // tokens per block; a multiple of 8
  int kv_heads = 0;
};

struct AttentionHeads {
  int q_heads = 0, kv_heads = 0;  // q_heads a multiple of kv_heads
  float scale = 0;                // softmax scale, usually 1/sqrt(128)
};

// Throws CudaError naming `kernel` unless the heads form GQA groups and the cache holds kv_heads.
inline void check_heads(const AttentionHeads& h, const PagedKv& kv, const char* kernel) {
  if (h.kv_heads <= 0 || h.q_heads % h.kv_heads != 0 || kv.kv_heads != h.kv_heads)
    throw CudaError(std::string(kernel) + ": q_heads must be a multiple of kv_heads, and the cache must hold kv_heads");
}

// Prefill: sequence s computes rows cu_q[s]..cu_q[s+1] of q against the kv_lens[s] keys cached
// for it after this chunk was written; its chunk's rows sit at the end of that context.
struct PrefillBatch {
  const bf16* q = nullptr;
  int q_stride = 0;
  bf16* out = nullptr;  // [tokens][q_heads][128] rows at out + t*out_stride
  int out_stride = 0;
  const int* cu_q = nullptr;          // device, num_seqs + 1
  const int* kv_lens = nullptr;       // device, num_seqs
  const int* block_tables = nullptr;  // device, num_seqs * max_blocks
  int max_blocks = 0;
  const int2* tiles = nullptr;  // device: (sequence, first row in its chunk) of each 64-row tile
  int num_tiles = 0;
};

// The tile list prefill_attention walks, from the chunk lengths (host side, once per batch).
std::vector<int2> prefill_tiles(const std::vector<int>& chunk_lens);

void prefill_attention(const PrefillBatch& b, const PagedKv& kv, const AttentionHeads& h, cudaStream_t s);

struct DecodeSplit {
  int splits = 1;          // key ranges per sequence
  int keys_per_split = 0;  // a multiple of 32
};
// Enough blocks to fill `sm_count` multiprocessors about twice, never slices under 256 keys.
DecodeSplit choose_decode_split(int num_seqs, int kv_heads, int max_kv_len, int sm_count);

// Decode: sequence s's single query row is q + s*q_stride; it attends all kv_lens[s] keys.
struct DecodeBatch {
  const bf16* q = nullptr;
  int q_stride = 0;
  bf16* out = nullptr;
  int out_stride = 0;
  const int* kv_lens = nullptr;
  const int* block_tables = nullptr;
  int max_blocks = 0;
  int num_seqs = 0;
  DecodeSplit split;
  float* workspace = nullptr;  // decode_workspace_floats(...) floats when split.splits > 1
};
std::size_t decode_workspace_floats(int num_seqs, int q_heads, int splits);

void decode_attention(const DecodeBatch& b, const PagedKv& kv, const AttentionHeads& h, cudaStream_t s);

// qkv: [tokens][(q_heads + 2*kv_heads) * 128], rotated in place (q and k); k and v copied to
// the cache at slots[t] (= physical block * block_size + offset). inv_freq: 64 floats on the device.
void write_kv_rope(bf16* qkv, int tokens, int q_heads, const int* positions, const int* slots, const float* inv_freq,
                   const PagedKv& kv, cudaStream_t s);

// theta^(-2i/128) for i < 64, as write_kv_rope reads it.
std::vector<float> rope_inv_freq(double theta);

}  // namespace kunsim::gpu
