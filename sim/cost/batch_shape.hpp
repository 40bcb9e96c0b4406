// BatchShape: what one iteration of an instance (or pipeline stage) computes, in the terms a
// cost model needs: the prefill chunks with the context each extends, and the decodes as a
// count plus the sum of their context lengths (the per-request lengths when a model wants them).
#pragma once
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
  std::int64_t decode_context_sum = 0;     // sum over decodes of tokens attended to
  std::span<const int> decode_contexts;    // optional per-request contexts (may be empty)
  int layers = 0;                          // layers this GPU group runs
  int sampled = 0;                         // sequences producing a token (LM head rows)

  std::int64_t prefill_tokens() const {
    std::int64_t t = 0;
    for (const auto& c : prefills) t += c.tokens;
    return t;
  }
  std::int64_t tokens() const { return prefill_tokens() + num_decodes; }
};

}  // namespace kunsim
