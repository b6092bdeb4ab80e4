#include "runtime/engine/engine.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "format/checksum.h"
#include "format/container_layout.h"
#include "kernels/kernel_threads.h"
#include "platform/clock.h"
#include "platform/page_release.h"
#include "runtime/container_weights.h"
#include "runtime/engine/stop_matcher.h"
#include "runtime/engine/touched_weights.h"
#include "runtime/model.h"
#include "runtime/model_tokenizer.h"
#include "text/tokenizer/token_stream_decoder.h"

namespace moestream {

const char* finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
  }
  return "error";
}

// Shared between the caller's handle and the scheduler.
struct RequestState {
  uint64_t id = 0;
  GenerationRequest request;
  uint64_t submitted_ns = now_ns();
  std::atomic<bool> cancelled{false};
  mutable std::mutex mutex;
  std::condition_variable done_cv;
  bool finished = false;
  GenerationResult result;

  void finish(GenerationResult r) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (finished) return;
      result = std::move(r);
      finished = true;
    }
    // The callbacks go now: a finished request calls nothing more, and what they captured
    // (often something that holds this request's handle) is released with them.
    auto on_finish = std::move(request.on_finish);
    request.on_finish = nullptr;
    request.on_token = nullptr;
    if (on_finish) {  // result is final: no more writes
      try {
        on_finish(result);
      } catch (...) {
      }
    }
    std::lock_guard<std::mutex> lock(mutex);
    done_cv.notify_all();
  }
};

uint64_t RequestHandle::id() const { return state_ ? state_->id : 0; }
void RequestHandle::cancel() {
  if (state_) state_->cancelled = true;
}
bool RequestHandle::done() const {
  if (!state_) return true;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->finished;
}
GenerationResult RequestHandle::wait() {
  if (!state_) return {};
  std::unique_lock<std::mutex> lock(state_->mutex);
  state_->done_cv.wait(lock, [&] { return state_->finished; });
  return state_->result;
}

namespace {

// A request being run by the scheduler.
struct Sequence {
  std::shared_ptr<RequestState> state;
  KvCache cache;
  std::vector<int32_t> history;  // prompt, then generated tokens
  int64_t prompt_size = 0;
  int64_t prompt_done = 0;       // prompt tokens in the cache
  int64_t max_tokens = 0;
  int32_t next_input = -1;       // the token to feed in the next decode step
  Sampler sampler;
  std::optional<TokenStreamDecoder> decoder;
  StopMatcher stops;
  GenerationResult result;
  uint64_t first_step_ns = 0, first_token_ns = 0;
  bool finished = false;
  // MTP speculation (EngineOptions::speculative_mtp): the MTP layer's cache holds a row per
  // position whose next token is known; `draft` is its guess of the token after next_input
  // (-1: none yet), drawn from `draft_q`, verified as the second row of the next step.
  std::optional<KvCache> mtp_cache;
  int32_t draft = -1;
  TokenDistribution draft_q;
  int32_t verify[2] = {-1, -1};
  int32_t grammar_state = -1;  // with GenerationRequest::grammar

  Sequence(std::shared_ptr<RequestState> s, KvCache c, const Tokenizer* tokenizer)
      : state(std::move(s)),
        cache(std::move(c)),
        sampler(state->request.sampling),
        stops(state->request.stop) {
    if (tokenizer) decoder.emplace(*tokenizer);
  }
};

// max(0, p - q) over p's tokens (both normalized); p itself where that is empty (p == q).
TokenDistribution residual(const TokenDistribution& p, const TokenDistribution& q) {
  double p_mass = 0, q_mass = 0;
  for (const TokenProbability& e : p.entries) p_mass += e.weight;
  std::unordered_map<int32_t, double> q_of;
  for (const TokenProbability& e : q.entries) {
    q_mass += e.weight;
    q_of[e.token] += e.weight;
  }
  TokenDistribution r;
  for (const TokenProbability& e : p.entries) {
    auto it = q_of.find(e.token);
    const double w = e.weight / p_mass - (it == q_of.end() ? 0.0 : it->second / q_mass);
    if (w > 0) r.entries.push_back({e.token, w});
  }
  return r.entries.empty() ? p : r;
}

float log_softmax_at(const float* row, int64_t n, int32_t token, float* lse_out) {
  float max = row[0];
  for (int64_t i = 1; i < n; ++i) max = std::max(max, row[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(row[i] - max));
  const float lse = max + static_cast<float>(std::log(sum));
  *lse_out = lse;
  return row[token] - lse;
}

}  // namespace

struct Engine::Impl {
  EngineOptions options;
  std::unique_ptr<ContainerReader> reader;
  std::unique_ptr<ContainerWeightSource> weights;
  std::unique_ptr<ResidentExpertProvider> resident;
  std::unique_ptr<StreamingSession> streaming;
  std::unique_ptr<Model> model;
  std::optional<Tokenizer> tokenizer;
  ChatTemplateKind chat_template = ChatTemplateKind::kDeepSeekV31;
  std::unique_ptr<PrefixCache> prefix_cache;
  int64_t max_context = 0;
  // Engine::constrain: the vocabulary trie (built on first use) and grammars by key.
  std::mutex grammar_mutex;
  std::shared_ptr<const TokenTrie> token_trie;
  std::deque<std::pair<std::string, std::shared_ptr<TokenGrammar>>> grammars;

  mutable std::mutex mutex;  // guards queue, stopping, stats
  std::condition_variable work_cv;
  std::deque<std::shared_ptr<RequestState>> queue;
  struct ExclusiveTask {
    const std::function<Status(Model&)>* fn = nullptr;
    Status result;
    bool done = false;
  };
  std::deque<ExclusiveTask*> exclusive;
  std::condition_variable exclusive_cv;
  bool stopping = false;
  std::atomic<bool> cancelling{false};  // cancel_all(): everything ends, nothing new starts
  uint64_t next_id = 1;
  EngineStats stats;
  std::thread scheduler;

  // Scheduler thread only.
  std::vector<std::unique_ptr<Sequence>> active;
  std::vector<float> logits;
  bool defer_finish = false;  // inside step(): results wait for the step's counters
  std::vector<std::pair<std::shared_ptr<RequestState>, GenerationResult>> finished_in_step;

  Status validate(const GenerationRequest& r) const;
  void loop();
  void admit(std::shared_ptr<RequestState> state);
  void step();
  // Takes the token from `row` (or `chosen` when >= 0: a verified draft, or a residual draw).
  // Under a grammar the row is masked in place first.
  void on_token(Sequence& seq, float* row, int32_t chosen = -1);
  // Feeds `hidden` (a row per token of next_tokens: the final hidden states of the positions
  // those tokens followed) to the MTP layer; with `draft`, draws its guess of the next token.
  Status extend_mtp(Sequence& s, std::span<const int32_t> next_tokens, const float* hidden, bool draft);
  std::vector<float> every_hidden, draft_logits;
  void finish(Sequence& seq, FinishReason reason, Status error = ok_status());
  LayerCacheStats cache_totals() const;
};

Result<std::unique_ptr<Engine>> Engine::open(const std::string& path, const EngineOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.max_sequences < 1 || options.max_sequences > 4096)
    return invalid_argument("max_sequences must be 1..4096");
  if (options.prefill_chunk < 1) return invalid_argument("prefill_chunk must be >= 1");
  if (options.max_context < 1) return invalid_argument("max_context must be >= 1");
  if (options.verify_on_load != "off" && options.verify_on_load != "fast" && options.verify_on_load != "full")
    return invalid_argument("verify_on_load must be off, fast or full, not '" + options.verify_on_load + "'");
  if (options.streaming && options.verify_on_load != "off" && !options.streaming->verify_blobs)
    return invalid_argument("streamed experts are checked as they are read: verify_blobs off needs verify_on_load off");
  MOESTREAM_ASSIGN_OR_RETURN(impl->reader, ContainerReader::open(path));
  const ModelConfig& c = impl->reader->config();
  if (options.speculative_mtp && c.num_nextn_predict_layers < 1) {
    return invalid_argument(path + " has no MTP layer to draft with; decode without speculation");
  }
  // A speculating decode step has two rows per sequence, and the MTP layer runs.
  const bool mtp_runs = options.plan_mtp || options.speculative_mtp;
  const int64_t decode_rows = options.max_sequences * (options.speculative_mtp ? 2 : 1);
  impl->max_context = options.max_context;
  if (c.max_position_embeddings > 0) impl->max_context = std::min<int64_t>(impl->max_context, c.max_position_embeddings);
  kernels::set_kernel_threads(options.threads);
  impl->weights = std::make_unique<ContainerWeightSource>(*impl->reader);
  // Before the budget plan, which counts what the process holds at that point.
  if (options.load_tokenizer && !impl->reader->tokenizer_json().empty()) {
    MOESTREAM_ASSIGN_OR_RETURN(ModelTokenizer tok, model_tokenizer_from_container(*impl->reader));
    impl->chat_template = chat_template_kind_of(tok);
    impl->tokenizer.emplace(std::move(tok.tokenizer));
  }
  ExpertProvider* provider = nullptr;
  if (options.streaming) {
    StreamingWorkload workload;
    workload.kv_tokens = impl->max_context * options.max_sequences;
    workload.step_rows = options.prefill_chunk + decode_rows;
    workload.logit_rows = options.plan_logit_rows > 0 ? options.plan_logit_rows : decode_rows;
    workload.kv_precision = options.kv_precision;
    workload.mtp = mtp_runs;
    auto session = open_streaming(*impl->reader, *options.streaming, workload, options.log);
    if (!session.ok()) return session.status().with_context(path);
    impl->streaming = std::move(session).value();
    provider = impl->streaming->provider.get();
  } else {
    impl->resident = std::make_unique<ResidentExpertProvider>(*impl->reader, options.verify_on_load == "fast");
    provider = impl->resident.get();
  }
  // Damaged bytes are an error here, before the forward pass can read them. After the budget
  // plan: the check touches every resident tensor, which the plan already counts as resident
  // weights, so it must not also count in the process's start-up RSS.
  if (options.verify_on_load != "off") {
    // The check reads every tensor; the embedding table (a few rows per step) and the MTP
    // layer (unless it runs) are handed back as it goes, so RSS is what the plan counted.
    const ModelConfig& config = impl->reader->config();
    Status s = options.verify_on_load == "full"
                   ? impl->reader->verify_all_checksums()
                   : impl->reader->verify_tensor_checksums([&](std::string_view name) {
                       return !keep_mapped_after_check(name, config, mtp_runs);
                     });
    if (!s.ok()) return s.with_context("verify on load (" + options.verify_on_load + ") refused " + path);
  }
  if (options.wrap_experts) {
    MOESTREAM_ASSIGN_OR_RETURN(provider, options.wrap_experts(*impl->reader, *provider));
  }
  auto model = Model::load(*impl->weights, *provider);
  if (!model.ok()) return model.status().with_context(path);
  impl->model = std::move(model).value();
  if (impl->reader->config().tie_word_embeddings == false) {
    const MappedFile& file = impl->reader->file();
    // A decode step reads one row of the table: without this hint each fault also reads the
    // device's read-ahead (often MiBs) into the page cache, which under a memory limit the
    // kernel then reclaims on the step's time (30 ms per token at 8 GiB on full6.mst).
    if (auto table = impl->reader->tensor("model.embed_tokens.weight"); table.ok()) {
      file.advise_random(static_cast<size_t>(static_cast<const uint8_t*>(table->data) - file.data()),
                         static_cast<size_t>(table->data_bytes));
    }
    impl->model->set_embedding_release([&file](const void* data, size_t bytes) {
      release_mapped_range(file, static_cast<uint64_t>(static_cast<const uint8_t*>(data) - file.data()), bytes);
    });
  }
  if (options.streaming) impl->model->set_prefetch_margin(options.streaming->prefetch_margin, options.streaming->prefetch_lookahead);
  // The prefix cache's blocks belong to this exact model file and KV layout.
  Xxh3Stream fingerprint;
  fingerprint.update(impl->reader->config_json().data(), impl->reader->config_json().size());
  const uint64_t size = impl->reader->file().size();
  fingerprint.update(&size, sizeof(size));
  fingerprint.update(&impl->reader->preamble(), sizeof(Preamble));
  impl->prefix_cache = std::make_unique<PrefixCache>(options.prefix_cache, fingerprint.digest(),
                                                     impl->model->new_kv_cache(options.kv_precision), options.log);
  Impl* raw = impl.get();
  impl->scheduler = std::thread([raw] { raw->loop(); });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->work_cv.notify_all();
  if (impl_->scheduler.joinable()) impl_->scheduler.join();
}

const ModelConfig& Engine::config() const { return impl_->reader->config(); }
const ContainerReader& Engine::reader() const { return *impl_->reader; }
Result<std::shared_ptr<TokenGrammar>> Engine::constrain(const ChatOutputSpec& spec) const {
  if (!impl_->tokenizer) return not_found(impl_->reader->path() + ": no tokenizer, so no constrained output");
  const std::string key = spec.key();
  std::lock_guard<std::mutex> lock(impl_->grammar_mutex);
  for (const auto& [k, g] : impl_->grammars) {
    if (k == key) return g;
  }
  MOESTREAM_ASSIGN_OR_RETURN(Grammar grammar, chat_output_grammar(spec, *impl_->tokenizer));
  if (!impl_->token_trie) {
    impl_->token_trie = std::make_shared<const TokenTrie>(TokenTrie::build(*impl_->tokenizer, impl_->reader->config().vocab_size));
  }
  auto g = std::make_shared<TokenGrammar>(std::move(grammar), impl_->token_trie,
                                          std::vector<int32_t>{static_cast<int32_t>(impl_->reader->config().eos_token_id)});
  impl_->grammars.emplace_front(key, g);
  if (impl_->grammars.size() > 4) impl_->grammars.pop_back();
  return g;
}

const Tokenizer* Engine::tokenizer() const { return impl_->tokenizer ? &*impl_->tokenizer : nullptr; }
int64_t Engine::max_context() const { return impl_->max_context; }
ChatTemplateKind Engine::chat_template() const { return impl_->chat_template; }

Result<std::vector<int32_t>> Engine::chat_prompt(const std::vector<ChatMessage>& messages,
                                                 const ChatTemplateOptions& options) const {
  if (!impl_->tokenizer) return not_found(impl_->reader->path() + ": no tokenizer, so no chat (token prompts only)");
  MOESTREAM_ASSIGN_OR_RETURN(std::string text, render_chat(impl_->chat_template, messages, options));
  return impl_->tokenizer->encode(text);
}

Status Engine::Impl::validate(const GenerationRequest& r) const {
  const int64_t vocab = reader->config().vocab_size;
  if (r.prompt.empty()) return invalid_argument("the prompt is empty");
  for (size_t i = 0; i < r.prompt.size(); ++i) {
    if (r.prompt[i] < 0 || r.prompt[i] >= vocab) {
      return invalid_argument("prompt token " + std::to_string(r.prompt[i]) + " at index " + std::to_string(i) +
                              " is outside the vocabulary (0.." + std::to_string(vocab - 1) + ")");
    }
  }
  if (static_cast<int64_t>(r.prompt.size()) >= max_context) {
    return invalid_argument("the prompt has " + std::to_string(r.prompt.size()) +
                            " tokens; the context holds " + std::to_string(max_context) +
                            " (prompt and output together)");
  }
  if (r.max_tokens < 1) return invalid_argument("max_tokens must be >= 1");
  if (r.top_logprobs < 0 || r.top_logprobs > 20) return invalid_argument("top_logprobs must be 0..20");
  if (r.stop.size() > 16) return invalid_argument("at most 16 stop strings");
  for (int32_t t : r.stop_tokens)
    if (t < 0 || t >= vocab) return invalid_argument("stop token " + std::to_string(t) + " is outside the vocabulary");
  MOESTREAM_TRY(r.sampling.check());
  if (r.grammar) {
    if (r.grammar->vocab_size() != vocab) return invalid_argument("the grammar was bound to another vocabulary");
    if (r.grammar->start() < 0) return invalid_argument("the grammar matches no output at all");
  }
  return ok_status();
}

RequestHandle Engine::submit(GenerationRequest request) {
  auto state = std::make_shared<RequestState>();
  state->request = std::move(request);
  Status valid = impl_->cancelling ? cancelled("the engine is shutting down") : impl_->validate(state->request);
  std::unique_lock<std::mutex> lock(impl_->mutex);
  state->id = impl_->next_id++;
  if (!valid.ok()) {
    lock.unlock();  // on_finish may call back into the engine
    GenerationResult r;
    r.finish = FinishReason::kError;
    r.error = valid;
    r.usage.prompt_tokens = static_cast<int64_t>(state->request.prompt.size());
    state->finish(std::move(r));
    return RequestHandle(state);
  }
  impl_->queue.push_back(state);
  impl_->work_cv.notify_one();
  return RequestHandle(state);
}

GenerationResult Engine::generate(GenerationRequest request) { return submit(std::move(request)).wait(); }

void Engine::cancel_all() {
  impl_->cancelling = true;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->work_cv.notify_all();
}

Status Engine::run_exclusive(const std::function<Status(Model&)>& fn) {
  Impl::ExclusiveTask task;
  task.fn = &fn;
  std::unique_lock<std::mutex> lock(impl_->mutex);
  if (impl_->stopping) return cancelled("the engine is shutting down");
  impl_->exclusive.push_back(&task);
  impl_->work_cv.notify_one();
  impl_->exclusive_cv.wait(lock, [&] { return task.done; });
  return task.result;
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  EngineStats s = impl_->stats;
  s.queued = static_cast<int64_t>(impl_->queue.size());
  return s;
}

std::string Engine::cache_report() const {
  return impl_->streaming ? streaming_report(*impl_->streaming) : std::string();
}

ExpertCache* Engine::expert_cache() { return impl_->streaming ? impl_->streaming->cache.get() : nullptr; }

std::vector<LayerCacheStats> Engine::cache_stats() const {
  return impl_->streaming ? impl_->streaming->cache->stats() : std::vector<LayerCacheStats>();
}

LayerCacheStats Engine::Impl::cache_totals() const {
  LayerCacheStats total;
  if (streaming) {
    total = total_of(streaming->cache->stats());
  } else if (resident) {
    total.hits = static_cast<uint64_t>(resident->acquisitions());  // every acquisition is served in place
  }
  return total;
}

void Engine::Impl::loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      work_cv.wait(lock, [&] { return stopping || !queue.empty() || !active.empty() || !exclusive.empty(); });
      if (stopping) break;
      while (!exclusive.empty()) {
        ExclusiveTask* task = exclusive.front();
        exclusive.pop_front();
        lock.unlock();
        Status result = (*task->fn)(*model);
        lock.lock();
        task->result = std::move(result);
        task->done = true;
        exclusive_cv.notify_all();
      }
      while (!queue.empty() && static_cast<int64_t>(active.size()) < options.max_sequences) {
        auto state = std::move(queue.front());
        queue.pop_front();
        lock.unlock();
        admit(std::move(state));
        lock.lock();
      }
      stats.active = static_cast<int64_t>(active.size());
    }
    if (active.empty()) continue;
    // Nothing may escape the scheduler thread: an exception (out of memory, a throwing
    // callback) ends the requests of that step with an error and the engine goes on.
    try {
      step();
    } catch (const std::exception& e) {
      for (auto& seq : active) finish(*seq, FinishReason::kError, internal_error(std::string("step failed: ") + e.what()));
      active.clear();
    } catch (...) {
      for (auto& seq : active) finish(*seq, FinishReason::kError, internal_error("step failed"));
      active.clear();
    }
  }
  for (auto& seq : active) finish(*seq, FinishReason::kCancelled);
  active.clear();
  std::deque<std::shared_ptr<RequestState>> left;
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (ExclusiveTask* task : exclusive) {
      task->result = cancelled("the engine is shutting down");
      task->done = true;
    }
    exclusive.clear();
    exclusive_cv.notify_all();
    left.swap(queue);
  }
  for (auto& state : left) {
    GenerationResult r;
    r.finish = FinishReason::kCancelled;
    state->finish(std::move(r));
  }
}

void Engine::Impl::admit(std::shared_ptr<RequestState> state) {
  if (state->cancelled || cancelling) {
    GenerationResult r;
    r.finish = FinishReason::kCancelled;
    r.usage.prompt_tokens = static_cast<int64_t>(state->request.prompt.size());
    state->finish(std::move(r));
    return;
  }
  auto seq = std::make_unique<Sequence>(state, model->new_kv_cache(options.kv_precision),
                                        tokenizer ? &*tokenizer : nullptr);
  const GenerationRequest& r = state->request;
  seq->prompt_size = static_cast<int64_t>(r.prompt.size());
  seq->history = r.prompt;
  seq->sampler.set_generated_start(r.prompt.size());
  if (r.grammar) seq->grammar_state = r.grammar->start();
  seq->max_tokens = std::min<int64_t>(r.max_tokens, max_context - seq->prompt_size);
  seq->history.reserve(static_cast<size_t>(seq->prompt_size + seq->max_tokens));
  seq->cache.reserve(seq->prompt_size + seq->max_tokens + 1);
  if (options.speculative_mtp) {
    seq->mtp_cache.emplace(model->mtp()->new_kv_cache(options.kv_precision));
    seq->mtp_cache->reserve(seq->prompt_size + seq->max_tokens + 1);
  } else {
    // A cached prefix (whole blocks; at least the last prompt token is always computed, for
    // its logits). A speculating sequence computes its whole prompt: the MTP layer's cache
    // needs the final hidden state of every position, which the prefix cache does not keep.
    seq->prompt_done = prefix_cache->restore(r.prompt, seq->prompt_size - 1, seq->cache);
  }
  seq->result.usage.prompt_tokens = seq->prompt_size;
  seq->result.usage.prompt_cache_hit_tokens = seq->prompt_done;
  seq->result.usage.prompt_cache_miss_tokens = seq->prompt_size - seq->prompt_done;
  seq->first_step_ns = now_ns();
  seq->result.timings.queued_s = static_cast<double>(seq->first_step_ns - state->submitted_ns) * 1e-9;
  active.push_back(std::move(seq));
}

void Engine::Impl::step() {
  const uint64_t step_start = now_ns();
  // Requests that end in this step get their results once its counters are out (the last
  // statement below): whoever reads stats() after a result sees the step that made it.
  struct FinishAfterStep {
    Impl& impl;
    explicit FinishAfterStep(Impl& i) : impl(i) { impl.defer_finish = true; }
    ~FinishAfterStep() {
      impl.defer_finish = false;
      for (auto& [state, result] : impl.finished_in_step) state->finish(std::move(result));
      impl.finished_in_step.clear();
    }
  } finish_after_step(*this);
  // Cancelled sequences leave before the step.
  for (auto& seq : active) {
    if (seq->state->cancelled || cancelling) finish(*seq, FinishReason::kCancelled);
  }
  std::erase_if(active, [](const std::unique_ptr<Sequence>& s) { return s->finished; });
  if (active.empty()) {
    std::lock_guard<std::mutex> lock(mutex);
    stats.active = 0;
    return;
  }

  // Compose: one token per decoding sequence, then prompt chunks (oldest first) up to the
  // step's prompt-token budget.
  std::vector<SequenceStep> steps;
  std::vector<Sequence*> members;
  bool want_hidden = false;  // a speculating sequence feeds every row to the MTP layer
  int64_t prompt_budget = options.prefill_chunk;
  for (auto& seq : active) {
    Sequence& s = *seq;
    if (s.prompt_done < s.prompt_size) {
      if (prompt_budget <= 0) continue;
      const int64_t chunk = std::min(prompt_budget, s.prompt_size - s.prompt_done);
      prompt_budget -= chunk;
      const bool completes = s.prompt_done + chunk == s.prompt_size;
      steps.push_back({std::span<const int32_t>(s.history.data() + s.prompt_done, static_cast<size_t>(chunk)),
                       &s.cache, completes ? SequenceStep::Rows::kLast : SequenceStep::Rows::kNone});
    } else if (s.draft >= 0 && s.result.usage.completion_tokens + 2 <= s.max_tokens) {
      // Verify the MTP draft: the model's token after next_input, and the one after the draft.
      s.verify[0] = s.next_input;
      s.verify[1] = s.draft;
      steps.push_back({std::span<const int32_t>(s.verify, 2), &s.cache, SequenceStep::Rows::kAll});
    } else {
      steps.push_back({std::span<const int32_t>(&s.next_input, 1), &s.cache, SequenceStep::Rows::kLast});
    }
    if (s.mtp_cache) want_hidden = true;
    members.push_back(&s);
  }
  int64_t rows = 0;
  for (const SequenceStep& st : steps) rows += static_cast<int64_t>(st.tokens.size());

  uint64_t drafts = 0, accepted_drafts = 0;
  const LayerCacheStats before = cache_totals();
  const uint64_t forward_start = now_ns();
  Status status = model->forward_batch(steps, {&logits, nullptr, want_hidden ? &every_hidden : nullptr});
  const uint64_t forward_ns = now_ns() - forward_start;
  uint64_t sample_ns = 0;
  const LayerCacheStats after = cache_totals();
  for (size_t i = 0; i < members.size(); ++i) {
    const double share = static_cast<double>(steps[i].tokens.size()) / static_cast<double>(rows);
    RequestExpertCounters& e = members[i]->result.experts;
    e.hits += share * static_cast<double>(after.hits - before.hits);
    e.misses += share * static_cast<double>(after.misses - before.misses);
    e.bytes_read += share * static_cast<double>(after.bytes_read - before.bytes_read);
    e.stall_s += share * static_cast<double>(after.stall_ns - before.stall_ns) * 1e-9;
  }
  if (!status.ok()) {
    // A failed step leaves its sequences' caches unusable: each of them ends with the error.
    for (Sequence* s : members) finish(*s, FinishReason::kError, status);
  } else {
    const int64_t vocab = model->config().vocab_size;
    const uint64_t sample_start = now_ns();
    const int64_t hidden = model->config().hidden_size;
    int64_t row = 0, first_row = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      Sequence& s = *members[i];
      const auto n = static_cast<int64_t>(steps[i].tokens.size());
      const float* step_hidden = want_hidden ? every_hidden.data() + first_row * hidden : nullptr;
      first_row += n;
      const bool prefill = s.prompt_done < s.prompt_size;
      const int64_t chunk_begin = s.prompt_done;
      if (prefill) s.prompt_done += n;
      Status mtp_status;
      if (steps[i].output == SequenceStep::Rows::kNone) {
        // A prompt chunk that does not end the prompt: its rows pair with the prompt's next ids.
        if (s.mtp_cache) mtp_status = extend_mtp(s, {s.history.data() + chunk_begin + 1, static_cast<size_t>(n)}, step_hidden, false);
      } else if (prefill) {
        s.first_token_ns = now_ns();
        s.result.timings.prefill_s = static_cast<double>(s.first_token_ns - s.first_step_ns) * 1e-9;
        prefix_cache->store(std::span<const int32_t>(s.history.data(), static_cast<size_t>(s.prompt_size)), s.cache);
        on_token(s, logits.data() + row * vocab);
        ++row;
        // The last chunk's rows pair with the rest of the prompt and the token just chosen.
        if (s.mtp_cache && !s.finished) {
          mtp_status = extend_mtp(s, {s.history.data() + chunk_begin + 1, static_cast<size_t>(n)}, step_hidden, true);
        }
      } else if (n == 1) {
        on_token(s, logits.data() + row * vocab);
        ++row;
        if (s.mtp_cache && !s.finished) mtp_status = extend_mtp(s, {&s.history.back(), 1}, step_hidden, true);
      } else {
        // A verify step: row 0 gives the model's token where the draft guessed; only when they
        // agree is row 1 (computed with the draft as input) the model's next token too.
        // Speculative sampling: keep the draft with probability min(1, p / q), otherwise draw
        // from the residual max(0, p - q), so the token's distribution is exactly p. Greedy is
        // the case of one-token distributions: the draft is kept exactly when it is p's token.
        const int32_t drafted = s.verify[1];
        float* first = logits.data() + row * vocab;
        const TokenDistribution p = s.sampler.distribution({first, static_cast<size_t>(vocab)}, s.history);
        const double pd = p.probability(drafted), qd = s.draft_q.probability(drafted);
        const bool keep = qd > 0 && s.sampler.uniform() * qd < pd;
        on_token(s, first, keep ? drafted : s.sampler.draw(residual(p, s.draft_q)));
        const bool accepted = keep && !s.finished;
        ++drafts;
        if (accepted) {
          ++accepted_drafts;
          on_token(s, logits.data() + (row + 1) * vocab);
          if (!s.finished) mtp_status = extend_mtp(s, {s.history.data() + s.history.size() - 2, 2}, step_hidden, true);
        } else {
          s.cache.set_size(s.cache.size() - 1);  // the draft's row is not part of the sequence
          if (!s.finished) mtp_status = extend_mtp(s, {&s.history.back(), 1}, step_hidden, true);
        }
        row += 2;
      }
      if (!mtp_status.ok()) finish(s, FinishReason::kError, mtp_status.with_context("mtp draft"));
    }
    sample_ns = now_ns() - sample_start;
  }
  std::erase_if(active, [](const std::unique_ptr<Sequence>& s) { return s->finished; });
  std::lock_guard<std::mutex> lock(mutex);
  ++stats.steps;
  stats.step_rows += static_cast<uint64_t>(rows);
  stats.expert_bytes_read += after.bytes_read - before.bytes_read;
  stats.expert_acquisitions += (after.hits + after.misses) - (before.hits + before.misses);
  stats.drafts += drafts;
  stats.drafts_accepted += accepted_drafts;
  stats.forward_s += static_cast<double>(forward_ns) * 1e-9;
  stats.ops = model->op_times();
  stats.sample_s += static_cast<double>(sample_ns) * 1e-9;
  stats.schedule_s += static_cast<double>(now_ns() - step_start - forward_ns - sample_ns) * 1e-9;
  stats.active = static_cast<int64_t>(active.size());
  stats.prefix_cache = prefix_cache->stats();
}

void Engine::Impl::on_token(Sequence& s, float* row, int32_t chosen) {
  const GenerationRequest& r = s.state->request;
  const int64_t vocab = model->config().vocab_size;
  uint64_t grammar_ns = 0;
  if (r.grammar && chosen < 0) {
    const uint64_t start = now_ns();
    // The tokens left bound the completion: near the limit only tokens that can still close it.
    const int64_t allowed = r.grammar->mask_logits(s.grammar_state, s.max_tokens - s.result.usage.completion_tokens,
                                                   std::span<float>(row, static_cast<size_t>(vocab)));
    grammar_ns += now_ns() - start;
    if (allowed < 0) {
      return finish(s, FinishReason::kError,
                    out_of_memory("the output grammar grew past " + std::to_string(r.grammar->max_states()) +
                                  " automaton states; simplify the schema (fewer overlapping optional repeats)"));
    }
  }
  const int32_t token =
      chosen >= 0 ? chosen : s.sampler.sample(std::span<const float>(row, static_cast<size_t>(vocab)), s.history);
  bool grammar_complete = false;
  if (r.grammar) {
    const uint64_t start = now_ns();
    s.grammar_state = r.grammar->advance(s.grammar_state, token);
    grammar_complete = s.grammar_state >= 0 && r.grammar->complete(s.grammar_state);
    grammar_ns += now_ns() - start;
    if (s.grammar_state < 0) {
      return finish(s, FinishReason::kError, internal_error("token " + std::to_string(token) + " breaks the grammar"));
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    ++stats.generated_tokens;
    if (r.grammar) {
      stats.grammar_s += static_cast<double>(grammar_ns) * 1e-9;
      ++stats.grammar_masks;
    }
  }
  ++s.result.timings.decoded;
  const bool eos = token == model->config().eos_token_id && !r.ignore_eos;
  const bool stop_token = std::find(r.stop_tokens.begin(), r.stop_tokens.end(), token) != r.stop_tokens.end();
  if (eos || stop_token) {
    s.result.usage.completion_tokens += 1;
    s.result.stop_token = token;
    return finish(s, FinishReason::kStop);
  }
  TokenEvent event;
  event.token = token;
  if (r.logprobs) {
    float lse = 0;
    event.logprob = log_softmax_at(row, vocab, token, &lse);
    if (r.top_logprobs > 0) {
      std::vector<int32_t> ids(static_cast<size_t>(vocab));
      for (int32_t i = 0; i < vocab; ++i) ids[static_cast<size_t>(i)] = i;
      const auto n = static_cast<size_t>(std::min<int64_t>(r.top_logprobs, vocab));
      std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                        [&](int32_t a, int32_t b) { return row[a] != row[b] ? row[a] > row[b] : a < b; });
      for (size_t i = 0; i < n; ++i) event.top_logprobs.emplace_back(ids[i], row[ids[i]] - lse);
    }
  }
  const std::string piece = s.decoder ? s.decoder->push(token) : std::string();
  event.text = s.stops.push(piece);
  s.history.push_back(token);
  s.result.tokens.push_back(token);
  s.result.usage.completion_tokens += 1;
  s.result.text += event.text;
  if (r.on_token) {
    try {
      r.on_token(event);
    } catch (...) {  // a callback that throws ends its own request, nothing else
      return finish(s, FinishReason::kError, internal_error("the token callback threw an exception"));
    }
  }
  if (s.stops.matched()) {
    s.result.matched_stop = s.stops.matched_stop();
    return finish(s, FinishReason::kStop);
  }
  if (grammar_complete) return finish(s, FinishReason::kStop);  // nothing may follow
  if (s.result.usage.completion_tokens >= s.max_tokens) return finish(s, FinishReason::kLength);
  s.next_input = token;
}

Status Engine::Impl::extend_mtp(Sequence& s, std::span<const int32_t> next_tokens, const float* hidden, bool draft) {
  draft = draft && !s.state->request.grammar;  // a draft would skip the grammar's mask
  MOESTREAM_TRY(model->mtp_forward(next_tokens, hidden, *s.mtp_cache, draft ? &draft_logits : nullptr, nullptr,
                                   /*last_row_logits=*/true));
  if (draft) {
    // Drawn from the draft logits under the request's own sampling settings (greedy: their
    // top token); the distribution decides the acceptance.
    s.draft_q = s.sampler.distribution(draft_logits, s.history);
    s.draft = s.sampler.draw(s.draft_q);
    if (options.draft_override) {
      s.draft = options.draft_override(s.history, s.draft);
      s.draft_q.entries = {{s.draft, 1.0}};  // a chosen draft: all its mass on one token
    }
    if (s.draft < 0 || s.draft >= model->config().vocab_size) s.draft = -1;  // no guess: one row next step
  }
  return ok_status();
}

void Engine::Impl::finish(Sequence& s, FinishReason reason, Status error) {
  if (s.finished) return;
  s.finished = true;
  // Text still held back (a partial character, a possible stop string) goes out last, as an
  // event with token -1, so the events' text always adds up to the result's.
  if (reason != FinishReason::kError && !s.stops.matched()) {
    std::string rest = s.decoder ? s.stops.push(s.decoder->finish()) : std::string();
    if (!s.stops.matched()) rest += s.stops.finish();
    else s.result.matched_stop = s.stops.matched_stop(), reason = FinishReason::kStop;
    if (!rest.empty()) {
      s.result.text += rest;
      if (s.state->request.on_token) {
        TokenEvent tail;
        tail.text = std::move(rest);
        try {
          s.state->request.on_token(tail);
        } catch (...) {
        }
      }
    }
  }
  s.result.finish = reason;
  s.result.error = std::move(error);
  const uint64_t now = now_ns();
  if (s.first_token_ns) s.result.timings.decode_s = static_cast<double>(now - s.first_token_ns) * 1e-9;
  else s.result.timings.prefill_s = static_cast<double>(now - s.first_step_ns) * 1e-9;
  if (defer_finish) {
    finished_in_step.emplace_back(s.state, std::move(s.result));
  } else {
    s.state->finish(std::move(s.result));
  }
}

}  // namespace moestream
