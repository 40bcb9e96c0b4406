// Request: one LLM request through its life: waiting -> (prefill -> decode)* -> finished, with
// preemption back to waiting (recompute) or to host memory (swapped), and aborted from any of
// them when its client gives up (workload.client_timeout_s). Token counts follow vLLM:
// after prefilling prompt + g0 tokens the request has g0 + 1 outputs; a decode step with g
// outputs attends to prompt + g tokens and leaves prompt + g in the KV cache.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/core/sim_time.hpp"

namespace kunsim {

using RequestId = std::uint64_t;

// Handoff: prefilled on a prefill instance of a disaggregated fleet, its KV on the way to a
// decode instance (held on the prefill side until it has arrived).
enum class Phase : std::uint8_t { Waiting, Prefill, Decode, Swapped, Finished, Rejected, Aborted, Handoff };

struct Request {
  RequestId id = 0;
  SimTime arrival = kSimTimeZero;
  int prompt = 0;   // input tokens
  int output = 0;   // output tokens to generate (>= 1)

  Phase phase = Phase::Waiting;
  int instance = -1;
  int generated = 0;       // outputs so far (for decodes, valid after DecodeCohort::sync)
  int prefill_target = 0;  // tokens the current prefill computes (prompt + generated)
  int prefilled = 0;       // of prefill_target, computed so far
  std::int64_t blocks = 0; // private KV blocks held on its instance (decodes: see DecodeCohort)

  // Automatic prefix caching. `prefix` has one key per full hash block of the prompt, each a
  // chain hash of everything before it (traces/prefix_keys.hpp), covering `prefix_unit` KV
  // blocks; empty when the request carries no prefix identity or caching is off. The leading
  // `cached_keys` of them are held in its instance's PrefixCache, shared with anyone else
  // holding them, and not among its private `blocks`.
  std::vector<std::uint64_t> prefix;
  int prefix_unit = 0;
  int cached_keys = 0;
  std::int64_t cached_blocks() const { return std::int64_t{cached_keys} * prefix_unit; }

  std::optional<SimTime> scheduled;    // first admission
  std::optional<SimTime> first_token;
  // When its prompt was first prefilled: the first token's time, except where a decode
  // instance of a disaggregated fleet sends the first token after the KV hand-off.
  std::optional<SimTime> prefill_done;
  std::optional<SimTime> finished;
  // When its latest output token came, while it is outside a decode cohort (within one, the
  // cohort's last step boundary is that time): the start of its next inter-token gap.
  SimTime last_token = kNoTime;
  int preemptions = 0;
  int swaps = 0;

  // Pipeline groups: a request running when its instance fused is "stale": its KV for all
  // layers sits on member `home` until the KV exchange spreads it over the stages.
  // `stale_blocks` is what it held at the fusion. Under stale_kv=stall-exchange (the
  // reference's livereshard) it is `stalled`: it neither decodes nor prefills until its KV is
  // exchanged; under remote-attention it runs, its attention on its home.
  int home = -1;
  std::int64_t stale_blocks = 0;
  bool stalled = false;
  bool stale() const { return home >= 0; }
  // Its virtual engine in a pipeline group of g stages (0 .. g-1; 0 in a normal instance): the
  // micro-batch it runs in, as the reference binds each arrival to one of the group's
  // schedulers; -1 while in no engine.
  int ve = -1;
  // Running when its instance fused (or grew) with a token already out: its next token's gap
  // is the drop's stall for it, reported apart from the other inter-token gaps.
  bool gap_spans_drop = false;
  // Speculative decoding (deployment.speculative): KV slots it holds beyond its context while
  // running (the drafts it verifies and vLLM's lookahead: 2k <= 32), and the tokens a decode
  // step emits for it on average, in 1/65536ths (1 << 16: one token, no speculation; at most
  // 17 tokens). DecodeCohort runs decodes of one rate in one lane. Narrow, to sit in padding.
  std::int16_t lookahead = 0;
  std::int32_t emit_rate = 1 << 16;
  // Blocks it holds for a model's sliding-window layers (ModelSpec::window_blocks) beside those
  // of its context: constant however long the context grows.
  std::int16_t window_blocks = 0;

  // Intrusive links of the instance's running list (admission order).
  Request* prev = nullptr;
  Request* next = nullptr;
  // DecodeCohort bookkeeping: generated = its lane's tokens - step_origin while decoding.
  std::int64_t step_origin = 0;

  // Blocks a request holds with `kv_tokens` tokens cached.
  static std::int64_t blocks_for(std::int64_t kv_tokens, int block_size) {
    return (kv_tokens + block_size - 1) / block_size;
  }
  // The most KV slots it can ever hold: the last output token is never written back; a
  // speculating request holds its lookahead on top.
  std::int64_t peak_kv_tokens() const { return std::int64_t{prompt} + output - 1 + lookahead; }
  // Blocks it holds with `kv_tokens` tokens cached, its sliding windows' included.
  std::int64_t blocks_at(std::int64_t kv_tokens, int block_size) const {
    return blocks_for(kv_tokens, block_size) + window_blocks;
  }
  // Slots it holds with `kv_tokens` tokens cached while it runs.
  std::int64_t running_blocks_for(std::int64_t kv_tokens, int block_size) const {
    return blocks_at(kv_tokens + lookahead, block_size);
  }
};

}  // namespace kunsim
