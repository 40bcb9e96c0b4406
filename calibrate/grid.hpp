// The shapes kunsim-calibrate measures, as data: what the fitted cost model interpolates over.
// Token counts are log-spaced from 1 to 16k; prefill covers (chunk, context before it); decode
// covers (batch, keys per sequence) uniform, plus skewed mixes with the same totals (one long
// sequence among short ones; lengths spread over eight octaves), since a serving batch is rarely
// uniform and the cost model keys decode on (batch, total keys) alone. --quick is a small
// subset for trying the harness out.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace kunsim::calibrate {

// What one forward pass computes: prefill chunks {context before, chunk tokens}, then decodes
// by the number of keys each attends (its context plus the new token).
struct Composition {
  struct Chunk {
    int context = 0, tokens = 0;
  };
  std::vector<Chunk> prefills;
  std::vector<int> decode_lens;

  int tokens() const;
  std::int64_t decode_keys() const;
};

struct Grid {
  std::vector<int> tokens;                          // GEMMs, norms, SiLU, rope
  std::vector<int> lm_rows;                         // LM head rows (sequences sampled)
  std::vector<std::pair<int, int>> prefill;         // (chunk, context)
  std::vector<std::vector<int>> decode;             // keys per sequence
  std::vector<Composition> mixed;                   // one layer's attention, mixed batches
  std::vector<Composition> iterations;              // whole-model checks
  std::vector<std::int64_t> transfer_bytes;

  static Grid make(bool quick, std::int64_t max_decode_keys);
  // A grid from JSON (kunsim-calibrate --grid FILE), every key optional:
  //   {"tokens": [..], "lm_rows": [..], "prefill": [[chunk, context], ..], "decode": [[keys, ..], ..],
  //    "mixed": [C, ..], "iterations": [C, ..], "transfer_bytes": [..]}
  // where a composition C is {"prefill": [[context, tokens]], "decode": [keys, ..]}.
  // Throws std::invalid_argument naming the key.
  static Grid from_json(const std::string& text, const std::string& where);
  int max_tokens() const;  // the most tokens any shape puts through one forward pass
};

}  // namespace kunsim::calibrate
