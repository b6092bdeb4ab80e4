// The C API (include/moestream/moestream.h) over the engine: argument checks, the status codes
// and a per-thread error message; nothing throws across the boundary.
#include "moestream/moestream.h"

#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "runtime/engine/engine.h"

struct moestream_engine {
  std::unique_ptr<moestream::Engine> engine;
};

struct moestream_request {
  moestream::RequestHandle handle;  // set under `mutex` right after submit
  bool stop_asked = false;          // the callback asked to stop before the handle was set
  std::mutex mutex;
  std::string text;
  bool waited = false;
  moestream::GenerationResult result;
};

namespace {

using moestream::ErrorCode;
using moestream::Status;

thread_local std::string t_last_error;

moestream_status fail(moestream_status code, std::string message) {
  t_last_error = std::move(message);
  return code;
}

moestream_status from(const Status& s) {
  if (s.ok()) return MOESTREAM_OK;
  moestream_status code = MOESTREAM_ERR_INTERNAL;
  switch (s.code()) {
    case ErrorCode::kOk: return MOESTREAM_OK;
    case ErrorCode::kInvalidArgument: code = MOESTREAM_ERR_INVALID_ARGUMENT; break;
    case ErrorCode::kNotFound: code = MOESTREAM_ERR_NOT_FOUND; break;
    case ErrorCode::kIoError: code = MOESTREAM_ERR_IO; break;
    case ErrorCode::kCorrupt: code = MOESTREAM_ERR_CORRUPT; break;
    case ErrorCode::kUnsupported: code = MOESTREAM_ERR_UNSUPPORTED; break;
    case ErrorCode::kOutOfMemory: code = MOESTREAM_ERR_OUT_OF_MEMORY; break;
    case ErrorCode::kNoSpace: code = MOESTREAM_ERR_NO_SPACE; break;
    case ErrorCode::kCancelled: code = MOESTREAM_ERR_CANCELLED; break;
    case ErrorCode::kInternal: code = MOESTREAM_ERR_INTERNAL; break;
  }
  return fail(code, s.message());
}

// Runs `fn`, turning any exception into a status: nothing crosses the C boundary.
template <class F>
moestream_status guarded(F&& fn) {
  try {
    t_last_error.clear();
    return fn();
  } catch (const std::bad_alloc&) {
    return fail(MOESTREAM_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(MOESTREAM_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(MOESTREAM_ERR_INTERNAL, "unknown error");
  }
}

moestream_status check_size(uint32_t given, size_t expected, const char* what) {
  if (given != expected) {
    return fail(MOESTREAM_ERR_INVALID_ARGUMENT, std::string(what) + ": struct_size " + std::to_string(given) +
                                                    " is not " + std::to_string(expected) + " (call its _init function first)");
  }
  return MOESTREAM_OK;
}

// json_schema: NULL free, "" any JSON object, else a schema; after thinking when `thinking`.
moestream_status constrain(const moestream::Engine& engine, const moestream_generate_options* o, bool thinking,
                           moestream::GenerationRequest* r) {
  if (o->json_schema == nullptr) return MOESTREAM_OK;
  if (engine.tokenizer() == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "json_schema needs the model's tokenizer");
  moestream::ChatOutputSpec spec;
  spec.kind = engine.chat_template();
  spec.thinking = thinking;
  if (*o->json_schema == '\0') {
    spec.json_object = true;
  } else {
    auto schema = nlohmann::ordered_json::parse(o->json_schema, nullptr, false);
    if (schema.is_discarded()) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "json_schema is not valid JSON");
    spec.json_schema = std::move(schema);
  }
  auto bound = engine.constrain(spec);
  if (!bound.ok() && bound.status().code() == moestream::ErrorCode::kInvalidArgument) {
    return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "json_schema: " + bound.status().message());
  }
  if (!bound.ok()) return from(bound.status());
  r->grammar = std::move(bound).value();
  return MOESTREAM_OK;
}

moestream_status to_request(const moestream_generate_options* o, moestream::GenerationRequest* r,
                            moestream_request* owner) {
  if (o == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "options is NULL");
  if (moestream_status s = check_size(o->struct_size, sizeof(*o), "moestream_generate_options")) return s;
  if (o->max_tokens < 1) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "max_tokens must be >= 1");
  if (o->stop_count > 16) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "at most 16 stop strings");
  if (o->stop_count > 0 && o->stop == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "stop is NULL with stop_count > 0");
  r->max_tokens = o->max_tokens;
  r->sampling.temperature = o->temperature;
  r->sampling.top_p = o->top_p;
  r->sampling.top_k = o->top_k;
  r->sampling.seed = o->seed;
  r->ignore_eos = o->ignore_eos != 0;
  for (size_t i = 0; i < o->stop_count; ++i) {
    if (o->stop[i] == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "stop[" + std::to_string(i) + "] is NULL");
    r->stop.emplace_back(o->stop[i]);
  }
  if (Status s = r->sampling.check(); !s.ok()) return from(s);
  const moestream_token_fn callback = o->on_token;
  void* user = o->user_data;
  r->on_token = [owner, callback, user](const moestream::TokenEvent& e) {
    {
      std::lock_guard<std::mutex> lock(owner->mutex);
      owner->text += e.text;
    }
    if (callback && callback(user, e.token, e.text.data(), e.text.size()) != 0) {
      std::lock_guard<std::mutex> lock(owner->mutex);
      owner->stop_asked = true;
      owner->handle.cancel();  // a no-op while the handle is not set yet; see attach()
    }
  };
  return MOESTREAM_OK;
}


// Stores the handle of a submitted request; a stop asked for in between is applied now.
void attach(moestream_request* owner, moestream::RequestHandle handle) {
  std::lock_guard<std::mutex> lock(owner->mutex);
  owner->handle = std::move(handle);
  if (owner->stop_asked) owner->handle.cancel();
}

}  // namespace

extern "C" {

const char* moestream_version(void) { return "0.1.0"; }
int moestream_abi_version(void) { return MOESTREAM_ABI_VERSION; }
const char* moestream_last_error(void) { return t_last_error.c_str(); }

const char* moestream_status_name(moestream_status status) {
  switch (status) {
    case MOESTREAM_OK: return "ok";
    case MOESTREAM_ERR_INVALID_ARGUMENT: return "invalid argument";
    case MOESTREAM_ERR_NOT_FOUND: return "not found";
    case MOESTREAM_ERR_IO: return "I/O error";
    case MOESTREAM_ERR_CORRUPT: return "corrupt";
    case MOESTREAM_ERR_UNSUPPORTED: return "unsupported";
    case MOESTREAM_ERR_OUT_OF_MEMORY: return "out of memory";
    case MOESTREAM_ERR_NO_SPACE: return "no space left";
    case MOESTREAM_ERR_CANCELLED: return "cancelled";
    case MOESTREAM_ERR_INTERNAL: return "internal error";
  }
  return "unknown status";
}

void moestream_engine_options_init(moestream_engine_options* o) {
  if (o == nullptr) return;
  std::memset(o, 0, sizeof(*o));
  o->struct_size = sizeof(*o);
  o->max_context = 4096;
  o->max_sequences = 4;
  o->prefix_cache_bytes = 64ull << 20;
}

void moestream_generate_options_init(moestream_generate_options* o) {
  if (o == nullptr) return;
  std::memset(o, 0, sizeof(*o));
  o->struct_size = sizeof(*o);
  o->max_tokens = 256;
  o->top_p = 1.0f;
}

void moestream_result_init(moestream_result* r) {
  if (r == nullptr) return;
  std::memset(r, 0, sizeof(*r));
  r->struct_size = sizeof(*r);
}

void moestream_engine_stats_init(moestream_engine_stats* s) {
  if (s == nullptr) return;
  std::memset(s, 0, sizeof(*s));
  s->struct_size = sizeof(*s);
}

moestream_status moestream_engine_open(const char* path, const moestream_engine_options* o, moestream_engine** out) {
  return guarded([&]() -> moestream_status {
    if (out == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "engine (the result pointer) is NULL");
    *out = nullptr;
    if (path == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "path is NULL");
    if (o == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "options is NULL (use moestream_engine_options_init)");
    if (moestream_status s = check_size(o->struct_size, sizeof(*o), "moestream_engine_options")) return s;
    if (o->threads < 0 || o->threads > 1024) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "threads must be 0..1024");
    if (o->max_context < 2) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "max_context must be >= 2");
    if (o->max_sequences < 1 || o->max_sequences > 4096) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "max_sequences must be 1..4096");
    moestream::EngineOptions options;
    if (o->ram_budget_bytes > 0) {
      options.streaming.emplace();
      options.streaming->ram_budget = o->ram_budget_bytes;
    }
    options.threads = o->threads;
    options.max_context = o->max_context;
    options.max_sequences = o->max_sequences;
    options.kv_precision = o->kv_cache_bf16 ? moestream::KvCachePrecision::kBF16 : moestream::KvCachePrecision::kF32;
    options.prefix_cache.ram_bytes = o->prefix_cache_bytes;
    if (o->prefix_cache_dir) options.prefix_cache.dir = o->prefix_cache_dir;
    if (o->log) {
      const moestream_log_fn log = o->log;
      void* user = o->log_user_data;
      options.log = [log, user](std::string_view line) {
        const std::string text(line);
        log(user, text.rfind("warning", 0) == 0 ? MOESTREAM_LOG_WARNING : MOESTREAM_LOG_INFO, text.c_str());
      };
    }
    auto engine = moestream::Engine::open(path, options);
    if (!engine.ok()) return from(engine.status());
    auto handle = std::make_unique<moestream_engine>();
    handle->engine = std::move(engine).value();
    *out = handle.release();
    return MOESTREAM_OK;
  });
}

void moestream_engine_close(moestream_engine* engine) {
  try {
    delete engine;
  } catch (...) {
  }
}

moestream_status moestream_submit_chat(moestream_engine* engine, const moestream_message* messages, size_t count,
                                       const moestream_generate_options* o, moestream_request** out) {
  return guarded([&]() -> moestream_status {
    if (out == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "request (the result pointer) is NULL");
    *out = nullptr;
    if (engine == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "engine is NULL");
    if (messages == nullptr || count == 0) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "no messages");
    std::vector<moestream::ChatMessage> chat;
    for (size_t i = 0; i < count; ++i) {
      if (messages[i].role == nullptr || messages[i].content == nullptr)
        return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "message " + std::to_string(i) + " has a NULL role or content");
      const std::string role = messages[i].role;
      if (role != "system" && role != "user" && role != "assistant")
        return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "message " + std::to_string(i) + ": role must be system, user or assistant");
      moestream::ChatMessage m;
      m.role = role;
      m.content = messages[i].content;
      chat.push_back(std::move(m));
    }
    auto owner = std::make_unique<moestream_request>();
    moestream::GenerationRequest request;
    if (moestream_status s = to_request(o, &request, owner.get())) return s;
    if (moestream_status s = constrain(*engine->engine, o, o->thinking != 0, &request)) return s;
    moestream::ChatTemplateOptions template_options;
    template_options.thinking = o->thinking != 0;
    auto prompt = engine->engine->chat_prompt(chat, template_options);
    if (!prompt.ok()) return from(prompt.status());
    request.prompt = std::move(prompt).value();
    attach(owner.get(), engine->engine->submit(std::move(request)));
    *out = owner.release();
    return MOESTREAM_OK;
  });
}

moestream_status moestream_submit_tokens(moestream_engine* engine, const int32_t* tokens, size_t count,
                                         const moestream_generate_options* o, moestream_request** out) {
  return guarded([&]() -> moestream_status {
    if (out == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "request (the result pointer) is NULL");
    *out = nullptr;
    if (engine == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "engine is NULL");
    if (tokens == nullptr || count == 0) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "no tokens");
    auto owner = std::make_unique<moestream_request>();
    moestream::GenerationRequest request;
    if (moestream_status s = to_request(o, &request, owner.get())) return s;
    if (moestream_status s = constrain(*engine->engine, o, false, &request)) return s;
    request.prompt.assign(tokens, tokens + count);
    attach(owner.get(), engine->engine->submit(std::move(request)));
    *out = owner.release();
    return MOESTREAM_OK;
  });
}

moestream_status moestream_request_cancel(moestream_request* request) {
  if (request == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "request is NULL");
  std::lock_guard<std::mutex> lock(request->mutex);
  request->handle.cancel();
  return MOESTREAM_OK;
}

moestream_status moestream_request_wait(moestream_request* request, moestream_result* out) {
  return guarded([&]() -> moestream_status {
    if (request == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "request is NULL");
    if (out != nullptr) {
      if (moestream_status s = check_size(out->struct_size, sizeof(*out), "moestream_result")) return s;
    }
    const moestream::GenerationResult r = request->handle.wait();
    if (out != nullptr) {
      out->finish_reason = r.finish == moestream::FinishReason::kStop     ? MOESTREAM_FINISH_STOP
                           : r.finish == moestream::FinishReason::kLength ? MOESTREAM_FINISH_LENGTH
                           : r.finish == moestream::FinishReason::kCancelled ? MOESTREAM_FINISH_CANCELLED
                                                                             : MOESTREAM_FINISH_ERROR;
      out->prompt_tokens = r.usage.prompt_tokens;
      out->prompt_cache_hit_tokens = r.usage.prompt_cache_hit_tokens;
      out->completion_tokens = r.usage.completion_tokens;
      out->queued_seconds = r.timings.queued_s;
      out->prefill_seconds = r.timings.prefill_s;
      out->decode_seconds = r.timings.decode_s;
      out->tokens_per_second = r.timings.tokens_per_second();
      out->expert_hits = r.experts.hits;
      out->expert_misses = r.experts.misses;
      out->expert_bytes_read = r.experts.bytes_read;
      out->expert_stall_seconds = r.experts.stall_s;
    }
    {
      std::lock_guard<std::mutex> lock(request->mutex);
      request->text = r.text;  // the final text (held-back pieces included)
    }
    if (r.finish == moestream::FinishReason::kError) return from(r.error);
    return MOESTREAM_OK;
  });
}

const char* moestream_request_text(const moestream_request* request) {
  return request == nullptr ? "" : request->text.c_str();
}

void moestream_request_free(moestream_request* request) {
  if (request == nullptr) return;
  try {
    request->handle.cancel();
    request->handle.wait();
    delete request;
  } catch (...) {
  }
}

moestream_status moestream_chat(moestream_engine* engine, const moestream_message* messages, size_t count,
                                const moestream_generate_options* options, moestream_result* result) {
  moestream_request* request = nullptr;
  if (moestream_status s = moestream_submit_chat(engine, messages, count, options, &request)) return s;
  const moestream_status s = moestream_request_wait(request, result);
  moestream_request_free(request);
  return s;
}

moestream_status moestream_tokenize(moestream_engine* engine, const char* text, int32_t* tokens, size_t capacity,
                                    size_t* count) {
  return guarded([&]() -> moestream_status {
    if (engine == nullptr || text == nullptr || count == nullptr)
      return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "engine, text and count must not be NULL");
    if (capacity > 0 && tokens == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "tokens is NULL with capacity > 0");
    const moestream::Tokenizer* tokenizer = engine->engine->tokenizer();
    if (tokenizer == nullptr) return fail(MOESTREAM_ERR_NOT_FOUND, "the model has no tokenizer");
    const std::vector<int32_t> ids = tokenizer->encode(text);
    *count = ids.size();
    if (ids.size() > capacity) {
      return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "the buffer holds " + std::to_string(capacity) + " ids; " +
                                                       std::to_string(ids.size()) + " are needed");
    }
    std::copy(ids.begin(), ids.end(), tokens);
    return MOESTREAM_OK;
  });
}

moestream_status moestream_engine_get_stats(moestream_engine* engine, moestream_engine_stats* stats) {
  return guarded([&]() -> moestream_status {
    if (engine == nullptr || stats == nullptr) return fail(MOESTREAM_ERR_INVALID_ARGUMENT, "engine and stats must not be NULL");
    if (moestream_status s = check_size(stats->struct_size, sizeof(*stats), "moestream_engine_stats")) return s;
    const moestream::EngineStats s = engine->engine->stats();
    stats->steps = s.steps;
    stats->generated_tokens = s.generated_tokens;
    stats->expert_bytes_read = s.expert_bytes_read;
    uint64_t hits = 0, misses = 0;
    for (const moestream::LayerCacheStats& l : engine->engine->cache_stats()) hits += l.hits, misses += l.misses;
    stats->expert_hits = hits;
    stats->expert_misses = misses;
    stats->prefix_cache_hit_tokens = s.prefix_cache.hit_tokens;
    stats->running = s.active;
    stats->waiting = s.queued;
    return MOESTREAM_OK;
  });
}

}  // extern "C"
