#include "traces/prefix_sharing.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "traces/prefix_keys.hpp"

namespace kunsim {

Json PrefixSharing::to_json() const {
  return {{"hash_block_tokens", hash_block_tokens}, {"system_prompt_tokens", system_prompt_tokens},
          {"system_prompts", system_prompts},       {"documents", documents},
          {"document_tokens", document_tokens},     {"document_zipf", document_zipf},
          {"session_turns", session_turns},         {"open_sessions", open_sessions}};
}

PrefixSharing PrefixSharing::from_json(const Json& j, const std::string& path) {
  JsonFields f(j, path);
  PrefixSharing s;
  s.hash_block_tokens =
      static_cast<int>(f.integer("hash_block_tokens", s.hash_block_tokens, 1, 1 << 20,
                                 Help{"tokens per prefix hash block (a multiple of deployment.block_size)"}));
  s.system_prompt_tokens = static_cast<int>(f.integer(
      "system_prompt_tokens", 0, 0, 1 << 24, Help{"tokens of the shared system prompt at the start of each prompt"}));
  s.system_prompts =
      static_cast<int>(f.integer("system_prompts", 1, 1, 1 << 20, Help{"distinct system prompts, drawn uniformly"}));
  s.documents = static_cast<int>(
      f.integer("documents", 0, 0, 1 << 24, Help{"distinct documents a prompt may include after its system prompt"}));
  s.document_tokens = static_cast<int>(f.integer("document_tokens", 0, 0, 1 << 24, Help{"tokens per document"}));
  s.document_zipf = f.number("document_zipf", 1.0, 0, 10, Help{"Zipf exponent of document popularity"});
  s.session_turns = f.number("session_turns", 1.0, 1.0, 1e6, Help{"mean turns per conversation (1: no conversations)"});
  s.open_sessions =
      static_cast<int>(f.integer("open_sessions", s.open_sessions, 1, 1 << 20, Help{"conversations open at once"}));
  f.finish();
  if ((s.documents > 0) != (s.document_tokens > 0))
    throw InputError(path + ": documents and document_tokens go together (both > 0, or neither)");
  return s;
}

namespace {

// Ids: system prompt k's block i, document d's block i (after a given system prompt), and
// fresh ones, in disjoint ranges so they never collide.
std::uint64_t system_id(int k, std::int64_t i) { return mix_prefix_key(0x5157ULL + static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(i)); }
std::uint64_t document_id(int d, std::int64_t i) { return mix_prefix_key(0xD0C0ULL + static_cast<std::uint64_t>(d), static_cast<std::uint64_t>(i)); }

class SharingSource final : public ArrivalSource {
 public:
  SharingSource(std::unique_ptr<ArrivalSource> inner, const PrefixSharing& s, const Rng& rng)
      : inner_(std::move(inner)), s_(s), rng_(rng) {
    if (s_.documents > 0) {  // Zipf CDF over the documents: a lookup table, drawn by bisection
      zipf_cdf_.resize(static_cast<std::size_t>(s_.documents));
      double sum = 0;
      for (int d = 0; d < s_.documents; ++d) zipf_cdf_[d] = sum += std::pow(d + 1.0, -s_.document_zipf);
      for (double& c : zipf_cdf_) c /= sum;
    }
    slots_.resize(static_cast<std::size_t>(s_.open_sessions));
  }
  std::string describe() const override { return inner_->describe(); }
  std::int64_t skipped() const override { return inner_->skipped(); }
  std::int64_t clipped() const override { return inner_->clipped(); }

  std::optional<TraceRequest> next() override {
    std::optional<TraceRequest> r = inner_->next();
    if (!r) return r;
    const int hb = s_.hash_block_tokens;
    const std::int64_t full = r->prompt / hb;
    std::vector<std::uint64_t> ids;
    ids.reserve(static_cast<std::size_t>(full));
    const bool turn = s_.session_turns > 1 && rng_.uniform() < 1.0 - 1.0 / s_.session_turns;
    // The open session with the longest context shorter than this prompt.
    auto it = turn ? by_context_.lower_bound(r->prompt) : by_context_.end();
    int slot = -1;
    if (turn && it != by_context_.begin()) {
      slot = std::prev(it)->second;
      by_context_.erase(std::prev(it));
      ids = std::move(slots_[slot].ids);
    } else {
      opening(*r, ids);
      slot = next_slot_;
      next_slot_ = (next_slot_ + 1) % s_.open_sessions;
      if (slots_[slot].open) by_context_.erase(slots_[slot].where);  // the oldest gives way
    }
    while (static_cast<std::int64_t>(ids.size()) < full) ids.push_back(fresh_++);
    r->prefix = prefix_keys(ids, r->prompt, hb);
    r->prefix_block_tokens = hb;
    // The session's context now ends after this turn's answer.
    Session& s = slots_[slot];
    const std::int64_t context = std::int64_t{r->prompt} + r->output;
    while (static_cast<std::int64_t>(ids.size()) < context / hb) ids.push_back(fresh_++);
    s.ids = std::move(ids);
    s.open = s_.session_turns > 1;
    if (s.open) s.where = by_context_.emplace(context, slot);
    return r;
  }

 private:
  struct Session {
    std::vector<std::uint64_t> ids;  // its context's full hash blocks
    bool open = false;
    std::multimap<std::int64_t, int>::iterator where;
  };
  // A new conversation: system prompt k, then document d, then its own tokens, within the
  // prompt. A block holding the end of one part and the start of the next is the next part's (its
  // key still depends on everything before it, so it is shared only by the same k and d).
  void opening(const TraceRequest& r, std::vector<std::uint64_t>& ids) {
    const std::int64_t hb = s_.hash_block_tokens, full = r.prompt / hb;
    const int k = s_.system_prompts > 1 ? static_cast<int>(rng_.next_u64() % static_cast<std::uint64_t>(s_.system_prompts)) : 0;
    int d = -1;
    if (s_.documents > 0)
      d = std::min(s_.documents - 1, static_cast<int>(std::upper_bound(zipf_cdf_.begin(), zipf_cdf_.end(), rng_.uniform()) -
                                                      zipf_cdf_.begin()));
    const std::int64_t sys_end = s_.system_prompt_tokens, doc_end = sys_end + (d >= 0 ? s_.document_tokens : 0);
    for (std::int64_t i = 0; i < full; ++i) {
      const std::int64_t end = (i + 1) * hb;
      if (end <= sys_end) ids.push_back(system_id(k, i));
      else if (end <= doc_end) ids.push_back(document_id(d, i));
      else break;
    }
  }

  std::unique_ptr<ArrivalSource> inner_;
  PrefixSharing s_;
  Rng rng_;
  std::vector<double> zipf_cdf_;
  std::vector<Session> slots_;  // a ring: a new conversation takes the oldest slot
  int next_slot_ = 0;
  std::multimap<std::int64_t, int> by_context_;  // open sessions by context length
  std::uint64_t fresh_ = 1ULL << 62;
};

}  // namespace

std::unique_ptr<ArrivalSource> with_prefix_sharing(std::unique_ptr<ArrivalSource> inner, const PrefixSharing& sharing,
                                                   const Rng& rng) {
  return std::make_unique<SharingSource>(std::move(inner), sharing, rng);
}

}  // namespace kunsim
