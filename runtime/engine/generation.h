// What a caller asks of the engine (GenerationRequest) and what it gets back: a TokenEvent per
// generated token while it runs, a GenerationResult at the end.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "platform/status.h"
#include "runtime/sampler.h"
#include "text/grammar/token_grammar.h"

namespace moestream {

// One generated token as it is produced. `text` is the part of the output that became
// printable with it: valid UTF-8, possibly empty (a character split across tokens, or text
// held back because it may be the start of a stop string), never part of a stop string.
struct TokenEvent {
  int32_t token = -1;
  std::string text;
  // With GenerationRequest::logprobs: log p(token) under the model (before temperature and
  // filtering) and the `top_logprobs` most likely alternatives, best first.
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top_logprobs;
};

struct GenerationRequest {
  std::vector<int32_t> prompt;  // token ids (the chat template already applied)
  SamplingParams sampling;
  int64_t max_tokens = 256;
  std::vector<std::string> stop;       // stop strings: output ends before the first match
  std::vector<int32_t> stop_tokens;    // ids that end the output (besides EOS), not emitted
  bool ignore_eos = false;
  bool logprobs = false;
  int64_t top_logprobs = 0;  // 0..20
  // Grammar-constrained output (Engine::constrain): every token keeps the output a prefix of
  // the grammar's language, the end is allowed only where it is complete, the tokens left
  // always suffice to complete it, and the request finishes (kStop) the moment nothing can
  // follow. Null: free text. Such a request is not speculated on.
  std::shared_ptr<TokenGrammar> grammar;
  // Called on the engine's scheduler thread for every token; keep it short. May be empty.
  std::function<void(const TokenEvent&)> on_token;
  // Called once when the request has finished (any reason), after its result is final, on
  // the thread that finished it (the scheduler, or submit() for a refused request). May be
  // empty.
  std::function<void(const struct GenerationResult&)> on_finish;
};

enum class FinishReason { kStop, kLength, kCancelled, kError };
const char* finish_reason_name(FinishReason reason);  // "stop", "length", "cancelled", "error"

struct GenerationUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t prompt_cache_hit_tokens = 0;   // prompt tokens whose KV came from the prefix cache
  int64_t prompt_cache_miss_tokens = 0;  // prompt tokens computed
};

struct GenerationTimings {
  double queued_s = 0;   // submitted -> first step
  double prefill_s = 0;  // first step -> first token
  double decode_s = 0;   // first token -> finished
  double tokens_per_second() const { return decode_s > 0 && decoded > 1 ? (decoded - 1) / decode_s : 0; }
  int64_t decoded = 0;
};

// The expert cache's work during the steps this request took part in, shared out by the
// request's share of each step's rows (a step's experts serve all its sequences at once).
struct RequestExpertCounters {
  double hits = 0;
  double misses = 0;
  double bytes_read = 0;
  double stall_s = 0;
};

struct GenerationResult {
  FinishReason finish = FinishReason::kStop;
  Status error;                  // set when finish == kError
  std::vector<int32_t> tokens;   // generated ids (stop tokens and EOS not included)
  std::string text;              // their text, cut before a matched stop string
  std::string matched_stop;      // the stop string that ended it, if any
  int32_t stop_token = -1;       // the EOS or stop token that ended it, if any
  GenerationUsage usage;
  GenerationTimings timings;
  RequestExpertCounters experts;
};

}  // namespace moestream
