// PrefixSharing: prefix identity for workloads that have none of their own (synthetic and
// profile workloads), drawn from a few parameters a planner can reason about:
//   - a shared system prompt leads each prompt (one of `system_prompts`, drawn uniformly);
//   - a document follows it, one of `documents` drawn by a Zipf law (RAG, long-context Q&A);
//   - conversations: a share 1 - 1/session_turns of requests continue an open session, whose
//     whole context (earlier prompts and answers) leads their prompt.
// Prompt lengths stay the ones drawn: the shared parts are carved out of them, and a turn
// continues the open session with the longest context shorter than its prompt (none shorter:
// it opens a session). Each part's hash blocks get ids; a new turn's own tokens get fresh ones.
#pragma once
#include <memory>
#include <string>

#include "sim/core/json_fields.hpp"
#include "sim/core/rng.hpp"
#include "traces/arrival_source.hpp"

namespace kunsim {

struct PrefixSharing {
  int hash_block_tokens = 16;      // tokens per hash block (a multiple of deployment.block_size)
  int system_prompt_tokens = 0;    // 0: none
  int system_prompts = 1;
  int documents = 0;               // 0: none
  int document_tokens = 0;
  double document_zipf = 1.0;
  double session_turns = 1.0;      // mean turns per conversation; 1: no conversations
  int open_sessions = 256;         // conversations a new turn may continue

  bool any() const { return system_prompt_tokens > 0 || documents > 0 || session_turns > 1; }
  Json to_json() const;
  static PrefixSharing from_json(const Json& j, const std::string& path);
};

// `inner`'s requests, given prefix identity as `sharing` describes (`inner` must have none).
std::unique_ptr<ArrivalSource> with_prefix_sharing(std::unique_ptr<ArrivalSource> inner, const PrefixSharing& sharing,
                                                   const Rng& rng);

}  // namespace kunsim
