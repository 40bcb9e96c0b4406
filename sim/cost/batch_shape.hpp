// BatchShape: what one iteration of an instance (or pipeline stage) computes, in the terms a
// cost model needs: the prefill chunks with the context each extends, and the decodes as a
// count plus the sum of their context lengths (the per-request lengths when a model wants them).
#pragma once
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace kunsim {

struct PrefillChunk {
  int tokens = 0;   // new tokens computed in this iteration
  int context = 0;  // tokens already in the KV cache before them
};

struct BatchShape {
  std::vector<PrefillChunk> prefills;
  int num_decodes = 0;
  // Query tokens each decode computes: 1, or k + 1 where it verifies k speculative drafts (its
  // last token and the drafts, one chunk after its context).
  int decode_queries = 1;
  std::int64_t decode_context_sum = 0;     // sum over decodes of tokens attended to (by the first query)
  std::span<const int> decode_contexts;    // optional per-request contexts (may be empty)
  int layers = 0;                          // layers this GPU group runs
  int sampled = 0;                         // sequences producing a token (LM head rows)

  std::int64_t prefill_tokens() const {
    std::int64_t t = 0;
    for (const auto& c : prefills) t += c.tokens;
    return t;
  }
  std::int64_t tokens() const { return prefill_tokens() + std::int64_t{num_decodes} * decode_queries; }
};

// A batch of prefill chunks as the equal-prompt batch a kernel table measures: `batch` prompts
// of `len` tokens doing the same attention work, and the mean context they read. A chunk of n
// tokens after c cached ones does the work of the whole prompt less its cached part
// ((c + n)^2 - c^2, causal), so a batch of chunks is the batch of prompts of the root-mean
// length of that work. A lone chunk with no context is itself (len = n); chunks after long
// contexts are also bounded by reading that context, like decodes (`context`).
struct PrefillEquivalent {
  double batch = 0, len = 0, context = 0;
};

inline PrefillEquivalent prefill_equivalent(const std::vector<PrefillChunk>& chunks) {
  PrefillEquivalent e;
  double work = 0, read = 0;
  for (const auto& c : chunks) {
    const double n = c.tokens, ctx = c.context;
    work += (ctx + n) * (ctx + n) - ctx * ctx;
    read += ctx + n;
  }
  e.batch = static_cast<double>(chunks.size());
  if (e.batch <= 0) return e;
  e.len = std::sqrt(work / e.batch);
  e.context = read / e.batch;
  return e;
}

// Decodes verifying drafts, as the chunk-after-context they are: each computes decode_queries
// tokens after the context its first query attends to less one (the tables have no multi-query
// decode rows). The batch's decodes are taken at their mean context, as decode pricing does.
inline PrefillEquivalent verification_equivalent(const BatchShape& s) {
  PrefillEquivalent e;
  if (s.num_decodes <= 0) return e;
  const double q = s.decode_queries;
  const double cached = static_cast<double>(s.decode_context_sum) / s.num_decodes - 1.0;
  e.batch = s.num_decodes;
  e.len = std::sqrt((cached + q) * (cached + q) - cached * cached);
  e.context = cached + q;
  return e;
}

}  // namespace kunsim
