// The attention checks of kunsim-kernels-check: a paged cache with shuffled block tables, a
// float64 reference row by row, and mixed batches (chunks after cached context, single-token
// decodes, split-K) run as vLLM's chunked prefill runs them.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/test/check_support.hpp"

namespace kunsim::gpu::check {
namespace {

// A paged cache with its contents kept on the host too, and blocks handed out in a shuffled
// order so that block tables are not the identity.
struct Cache {
  int block_size, kv_heads, num_blocks;
  Host k, v;
  std::vector<int> free_blocks;
  Cache(int bs, int kvh, int blocks) : block_size(bs), kv_heads(kvh), num_blocks(blocks) {
    k = random_bf16(static_cast<std::size_t>(blocks) * bs * kvh * kHeadDim);
    v = random_bf16(k.size());
    free_blocks.resize(blocks);
    std::iota(free_blocks.begin(), free_blocks.end(), 0);
    std::shuffle(free_blocks.begin(), free_blocks.end(), rng);
  }
  std::vector<int> table(int tokens, int max_blocks) {
    std::vector<int> t(max_blocks, 0);
    for (int b = 0; b < (tokens + block_size - 1) / block_size; ++b) {
      t[b] = free_blocks.back();
      free_blocks.pop_back();
    }
    return t;
  }
  std::size_t at(const std::vector<int>& table, int key, int h) const {
    const std::size_t slot = static_cast<std::size_t>(table[key / block_size]) * block_size + key % block_size;
    return (slot * kv_heads + h) * kHeadDim;
  }
};

// out[h][d] for one query row at position `pos` (keys 0..pos) of a sequence in `cache`.
void ref_attention_row(const Cache& c, const std::vector<int>& table, const double* q, int q_heads, int pos,
                       double scale, std::vector<double>& out) {
  const int group = q_heads / c.kv_heads;
  out.assign(static_cast<std::size_t>(q_heads) * kHeadDim, 0.0);
  std::vector<double> s(pos + 1);
  for (int h = 0; h < q_heads; ++h) {
    const int kvh = h / group;
    double mx = -INFINITY;
    for (int key = 0; key <= pos; ++key) {
      const std::size_t base = c.at(table, key, kvh);
      double dot = 0;
      for (int d = 0; d < kHeadDim; ++d) dot += q[h * kHeadDim + d] * f(c.k[base + d]);
      s[key] = dot * scale;
      mx = std::max(mx, s[key]);
    }
    double sum = 0;
    for (int key = 0; key <= pos; ++key) sum += (s[key] = std::exp(s[key] - mx));
    for (int key = 0; key <= pos; ++key) {
      const std::size_t base = c.at(table, key, kvh);
      for (int d = 0; d < kHeadDim; ++d) out[h * kHeadDim + d] += s[key] / sum * f(c.v[base + d]);
    }
  }
}

}  // namespace

// A mixed batch run as vLLM's chunked prefill runs it: write_kv_rope over every new token, one
// prefill launch over the chunks, one decode launch over the single-token sequences.
void check_mixed(const std::string& name, const std::vector<SeqSpec>& prefills, const std::vector<SeqSpec>& decodes,
                 int q_heads, int kv_heads, int block_size, int force_splits) {
  std::vector<SeqSpec> seqs = prefills;
  seqs.insert(seqs.end(), decodes.begin(), decodes.end());
  int max_len = 0, total_blocks = 0, tokens = 0;
  for (const auto& s : seqs) {
    max_len = std::max(max_len, s.context + s.chunk);
    total_blocks += (s.context + s.chunk + block_size - 1) / block_size;
    tokens += s.chunk;
  }
  const int max_blocks = (max_len + block_size - 1) / block_size;
  Cache cache(block_size, kv_heads, total_blocks + 3);
  std::vector<std::vector<int>> tables;
  for (const auto& s : seqs) tables.push_back(cache.table(s.context + s.chunk, max_blocks));

  const int width = (q_heads + 2 * kv_heads) * kHeadDim;
  const Host qkv = random_bf16(static_cast<std::size_t>(tokens) * width);
  std::vector<int> positions, slots;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    for (int j = 0; j < seqs[i].chunk; ++j) {
      const int pos = seqs[i].context + j;
      positions.push_back(pos);
      slots.push_back(tables[i][pos / block_size] * block_size + pos % block_size);
    }
  const double theta = 500000.0;
  const std::vector<float> inv_freq = rope_inv_freq(theta);

  // Reference: rotate in float64 (rounded to bf16 as the kernel stores them), fill the cache.
  Host rotated = qkv;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < q_heads + kv_heads; ++h)
      for (int i = 0; i < kHeadDim / 2; ++i) {
        const std::size_t base = static_cast<std::size_t>(t) * width + h * kHeadDim;
        const double ang = static_cast<double>(positions[t]) * static_cast<double>(inv_freq[i]);
        const double a = f(qkv[base + i]), b = f(qkv[base + i + 64]);
        rotated[base + i] = float_to_bf16_bits(static_cast<float>(a * std::cos(ang) - b * std::sin(ang)));
        rotated[base + i + 64] = float_to_bf16_bits(static_cast<float>(b * std::cos(ang) + a * std::sin(ang)));
      }
  Cache ref_cache = cache;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < kv_heads; ++h)
      for (int d = 0; d < kHeadDim; ++d) {
        const std::size_t dst = (static_cast<std::size_t>(slots[t]) * kv_heads + h) * kHeadDim + d;
        ref_cache.k[dst] = rotated[static_cast<std::size_t>(t) * width + (q_heads + h) * kHeadDim + d];
        ref_cache.v[dst] = qkv[static_cast<std::size_t>(t) * width + (q_heads + kv_heads + h) * kHeadDim + d];
      }

  // Device.
  auto dqkv = upload_bf16(qkv), dk = upload_bf16(cache.k), dv = upload_bf16(cache.v);
  auto dpos = upload(positions), dslots = upload(slots);
  auto dfreq = upload(inv_freq);
  const PagedKv kv{dk.get(), dv.get(), block_size, kv_heads};
  const AttentionHeads heads{q_heads, kv_heads, static_cast<float>(1.0 / std::sqrt(static_cast<double>(kHeadDim)))};
  DeviceBuffer<bf16> dout(static_cast<std::size_t>(tokens) * q_heads * kHeadDim);
  poison(dout);
  write_kv_rope(dqkv.get(), tokens, q_heads, dpos.get(), dslots.get(), dfreq.get(), kv, 0);

  const int np = static_cast<int>(prefills.size()), nd = static_cast<int>(decodes.size());
  std::vector<int> cu_q{0}, kv_lens, flat_tables, chunk_lens;
  for (int i = 0; i < np; ++i) {
    cu_q.push_back(cu_q.back() + prefills[i].chunk);
    kv_lens.push_back(prefills[i].context + prefills[i].chunk);
    chunk_lens.push_back(prefills[i].chunk);
    flat_tables.insert(flat_tables.end(), tables[i].begin(), tables[i].end());
  }
  const int prefill_tokens = cu_q.back();
  const std::vector<int2> tiles = prefill_tiles(chunk_lens);
  auto dcu = upload(cu_q), dlens = upload(kv_lens), dtab = upload(flat_tables);
  auto dtiles = upload(tiles);
  PrefillBatch pb;
  pb.q = dqkv.get();
  pb.q_stride = width;
  pb.out = dout.get();
  pb.out_stride = q_heads * kHeadDim;
  pb.cu_q = dcu.get();
  pb.kv_lens = dlens.get();
  pb.block_tables = dtab.get();
  pb.max_blocks = max_blocks;
  pb.tiles = dtiles.get();
  pb.num_tiles = static_cast<int>(tiles.size());
  if (np > 0) prefill_attention(pb, kv, heads, 0);

  std::vector<int> dec_lens, dec_tables;
  int dec_max = 1;
  for (int i = 0; i < nd; ++i) {
    dec_lens.push_back(decodes[i].context + 1);
    dec_max = std::max(dec_max, dec_lens.back());
    dec_tables.insert(dec_tables.end(), tables[np + i].begin(), tables[np + i].end());
  }
  auto ddlens = upload(dec_lens), ddtab = upload(dec_tables);
  DecodeBatch db;
  db.q = dqkv.get() + static_cast<std::size_t>(prefill_tokens) * width;
  db.q_stride = width;
  db.out = dout.get() + static_cast<std::size_t>(prefill_tokens) * q_heads * kHeadDim;
  db.out_stride = q_heads * kHeadDim;
  db.kv_lens = ddlens.get();
  db.block_tables = ddtab.get();
  db.max_blocks = max_blocks;
  db.num_seqs = nd;
  if (force_splits > 0) {
    db.split.keys_per_split = std::max(32, ((dec_max + force_splits - 1) / force_splits + 31) / 32 * 32);
    db.split.splits = (dec_max + db.split.keys_per_split - 1) / db.split.keys_per_split;
  } else {
    db.split = choose_decode_split(nd, kv_heads, dec_max, 132);
  }
  DeviceBuffer<float> ws(std::max<std::size_t>(1, decode_workspace_floats(nd, q_heads, db.split.splits)));
  db.workspace = ws.get();
  if (nd > 0) decode_attention(db, kv, heads, 0);
  const Host out = download(dout);

  // The cache the kernels wrote must match the reference cache at the new tokens' slots.
  const Host got_k = download(dk), got_v = download(dv);
  std::vector<double> ref_kv, idx_dummy;
  Host got_kv;
  for (int t = 0; t < tokens; ++t)
    for (int h = 0; h < kv_heads; ++h)
      for (int d = 0; d < kHeadDim; ++d) {
        const std::size_t i = (static_cast<std::size_t>(slots[t]) * kv_heads + h) * kHeadDim + d;
        ref_kv.push_back(f(ref_cache.k[i]));
        got_kv.push_back(got_k[i]);
        ref_kv.push_back(f(ref_cache.v[i]));
        got_kv.push_back(got_v[i]);
      }
  report(name + ": rope + cache write", rel_error(got_kv, ref_kv), kBf16Tolerance);

  std::vector<double> ref(out.size()), row, q(static_cast<std::size_t>(q_heads) * kHeadDim);
  int t = 0;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    for (int j = 0; j < seqs[i].chunk; ++j, ++t) {
      for (std::size_t e = 0; e < q.size(); ++e) q[e] = f(rotated[static_cast<std::size_t>(t) * width + e]);
      ref_attention_row(ref_cache, tables[i], q.data(), q_heads, seqs[i].context + j, heads.scale, row);
      std::copy(row.begin(), row.end(), ref.begin() + static_cast<std::ptrdiff_t>(t) * q_heads * kHeadDim);
    }
  const std::size_t split_at = static_cast<std::size_t>(prefill_tokens) * q_heads * kHeadDim;
  std::vector<std::size_t> pre(split_at), dec(out.size() - split_at);
  std::iota(pre.begin(), pre.end(), 0);
  std::iota(dec.begin(), dec.end(), split_at);
  if (np > 0) report(name + ": prefill attention", rel_error(out, ref, pre), kBf16Tolerance);
  if (nd > 0)
    report(name + ": decode attention (" + std::to_string(db.split.splits) + " slices)", rel_error(out, ref, dec),
           kBf16Tolerance);
}

}  // namespace kunsim::gpu::check
