// The engine: one front door to the model for every user (run, batch, serve, chat, the C API).
// Engine::open builds everything a model needs (reader, weights, expert cache or resident
// experts, kernel threads, model, prefix cache); submit() queues a request and a scheduler
// thread runs all active requests together, continuous batching: each step takes a chunk of
// every prefilling prompt and one token of every decoding sequence through the layers at once,
// so each routed expert is acquired (and on a miss read from disk) once per layer per step
// however many sequences picked it. Requests join between steps and leave as they finish.
//
// Ownership: the Engine owns everything it opened; a RequestHandle shares its request's state
// and stays valid after the engine is destroyed (its result is then kCancelled if unfinished).
// Thread-safety: open() and the destructor from one thread; submit(), generate(), stats and
// every RequestHandle method from any thread. Token callbacks run on the scheduler thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/container_reader.h"
#include "offload/cache_stats.h"
#include "platform/status.h"
#include "runtime/engine/engine_options.h"
#include "runtime/engine/generation.h"
#include "runtime/op_times.h"
#include "text/chat/chat_template.h"
#include "text/grammar/chat_output_grammar.h"
#include "text/grammar/token_grammar.h"
#include "text/tokenizer/tokenizer.h"

namespace moestream {

struct RequestState;
class Model;
class ExpertCache;

class RequestHandle {
 public:
  RequestHandle() = default;
  explicit RequestHandle(std::shared_ptr<RequestState> state) : state_(std::move(state)) {}
  uint64_t id() const;
  // Asks the request to stop; it finishes with kCancelled at the next step boundary (or at
  // once if still queued). Safe at any time, also after it finished.
  void cancel();
  bool done() const;
  // Blocks until the request finished and returns its result.
  GenerationResult wait();

 private:
  std::shared_ptr<RequestState> state_;
};

struct EngineStats {
  uint64_t steps = 0;
  uint64_t step_rows = 0;            // rows computed, all steps
  uint64_t generated_tokens = 0;
  uint64_t expert_bytes_read = 0;    // by the expert cache (0 when all experts are resident)
  uint64_t expert_acquisitions = 0;  // per layer per step, summed
  uint64_t drafts = 0;               // MTP drafts verified (speculative_mtp)
  uint64_t drafts_accepted = 0;      // of those, equal to the model's token
  double forward_s = 0;              // inside Model::forward_batch
  double sample_s = 0;               // sampling, detokenizing, stop strings, token callbacks
  double grammar_s = 0;              // of sample_s: grammar masks and state updates
  uint64_t grammar_masks = 0;        // tokens chosen under a grammar
  double schedule_s = 0;             // the rest of each step (composing it, admission, bookkeeping)
  OpTimes ops;                       // forward_s by kind of operation (runtime/op_times.h)
  int64_t active = 0, queued = 0;
  PrefixCacheStats prefix_cache;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> open(const std::string& path, const EngineOptions& options);
  ~Engine();  // cancels what is still running and joins the scheduler
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const ModelConfig& config() const;
  const ContainerReader& reader() const;
  // The container's tokenizer; null when it has none or options.load_tokenizer is off.
  const Tokenizer* tokenizer() const;
  int64_t max_context() const;
  // The chat template the model uses (V3 or V3.1), and a conversation rendered with it and
  // tokenized: the prompt of a chat request. kNotFound without a tokenizer.
  ChatTemplateKind chat_template() const;
  Result<std::vector<int32_t>> chat_prompt(const std::vector<ChatMessage>& messages,
                                           const ChatTemplateOptions& options) const;

  // The grammar of an answer of the form `spec` (chat_output_grammar with this model's
  // tokenizer) bound to its vocabulary and end token, for GenerationRequest::grammar. Specs with
  // the same key() share one TokenGrammar and its cached masks, compiled only the first time
  // (the last 4 are kept: each holds at most 32 MB of masks and 64 MB of automaton).
  // kInvalidArgument for a schema outside the subset, kNotFound without a tokenizer.
  Result<std::shared_ptr<TokenGrammar>> constrain(const ChatOutputSpec& spec) const;

  // Checks the request (ids in the vocabulary, fits the context, sane sampling values) and
  // queues it. An invalid request comes back already finished with kError and the reason.
  RequestHandle submit(GenerationRequest request);
  // submit() and wait().
  GenerationResult generate(GenerationRequest request);
  // Cancels every queued and running request and refuses new ones (kCancelled): the first
  // step of a shutdown while callers may still hold handles. Thread-safe.
  void cancel_all();

  // Runs fn on the scheduler thread between steps, with the model to itself (no request
  // runs meanwhile), and returns its status: for tools that need the forward pass directly
  // (`moestream logits`: logits of every position, MTP drafts). Thread-safe; blocks.
  Status run_exclusive(const std::function<Status(Model&)>& fn);

  // Counters over every step so far, published at the end of each step; a request's result
  // is handed over after the counters of the step that finished it.
  EngineStats stats() const;
  // The expert-cache report (streaming mode), else an empty string.
  std::string cache_report() const;
  // The expert cache (streaming mode), else null: for tools that listen to its events.
  ExpertCache* expert_cache();
  // Per-layer expert-cache counters (streaming mode), else empty. Thread-safe.
  std::vector<LayerCacheStats> cache_stats() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moestream
