// Prefix keys: a prompt's prefix identity as kunsim's prefix cache uses it. A trace names each
// hash block of a prompt (Mooncake: 512 tokens) with an id; the key of block i hashes the ids of
// blocks 0..i, so equal keys mean equal prefixes even where a trace reuses an id after a
// different start. Only full hash blocks get keys (vLLM caches full blocks only).
#pragma once
#include <cstdint>
#include <vector>

namespace kunsim {

inline std::uint64_t mix_prefix_key(std::uint64_t prev, std::uint64_t id) {
  // splitmix64 over the pair: cheap, and well spread for a hash map.
  std::uint64_t z = prev * 0x9E3779B97F4A7C15ULL + id + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Keys of the full hash blocks among `ids` for a prompt of `prompt` tokens.
inline std::vector<std::uint64_t> prefix_keys(const std::vector<std::uint64_t>& ids, std::int64_t prompt,
                                              int block_tokens) {
  const std::size_t full = std::min<std::size_t>(ids.size(), static_cast<std::size_t>(prompt / block_tokens));
  std::vector<std::uint64_t> keys(full);
  std::uint64_t k = 0;
  for (std::size_t i = 0; i < full; ++i) keys[i] = k = mix_prefix_key(k, ids[i]);
  return keys;
}

}  // namespace kunsim
