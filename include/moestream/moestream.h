/* moestream: run DeepSeek-V3 / V3.1 on a box whose RAM is smaller than the model.
 *
 * The C API (C11), the library's only public header. Link with
 *   cc app.c $(pkg-config --cflags --libs moestream)
 *
 * Conventions, for every function:
 * - Every call returns a moestream_status; MOESTREAM_OK is 0. After a failed call,
 *   moestream_last_error() gives a message for the calling thread (valid until that thread's
 *   next call into the library). Nothing aborts, throws across the boundary or calls exit();
 *   NULL where a value is required, an unknown struct_size and out-of-range values are
 *   MOESTREAM_ERR_INVALID_ARGUMENT.
 * - Options structs start with struct_size: initialize them with their *_init() function,
 *   which sets struct_size and the defaults, so a program built against this header keeps
 *   working with later libraries whose structs have grown.
 * - No global state: everything lives in an engine; two engines in one process are
 *   independent (except the kernels' thread count, a process-wide setting). Log lines go to
 *   the engine's log callback, never to stderr unless you print them.
 * - Strings passed in are copied before the call returns; strings returned point into memory
 *   the library owns, valid as documented at each function.
 */
#ifndef MOESTREAM_MOESTREAM_H_
#define MOESTREAM_MOESTREAM_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOESTREAM_VERSION_MAJOR 0
#define MOESTREAM_VERSION_MINOR 1
#define MOESTREAM_VERSION_PATCH 0
/* Bumped only when a function, struct layout prefix or meaning changes incompatibly. */
#define MOESTREAM_ABI_VERSION 1

typedef enum moestream_status {
  MOESTREAM_OK = 0,
  MOESTREAM_ERR_INVALID_ARGUMENT = 1, /* a NULL, an unknown struct_size, a value out of range */
  MOESTREAM_ERR_NOT_FOUND = 2,        /* a file, or the tokenizer a chat needs */
  MOESTREAM_ERR_IO = 3,               /* the OS refused a read or write */
  MOESTREAM_ERR_CORRUPT = 4,          /* the model file fails a check */
  MOESTREAM_ERR_UNSUPPORTED = 5,
  MOESTREAM_ERR_OUT_OF_MEMORY = 6,    /* e.g. the RAM budget cannot hold the model */
  MOESTREAM_ERR_NO_SPACE = 7,         /* disk full */
  MOESTREAM_ERR_CANCELLED = 8,
  MOESTREAM_ERR_INTERNAL = 9
} moestream_status;

/* "1.2.3" and MOESTREAM_ABI_VERSION of the library actually loaded. Thread-safe. */
const char* moestream_version(void);
int moestream_abi_version(void);
/* "ok", "invalid argument", ...: a static string. Thread-safe. */
const char* moestream_status_name(moestream_status status);
/* The message of the calling thread's last failed call ("" if none). Thread-safe (per thread). */
const char* moestream_last_error(void);

/* ---- Engine ------------------------------------------------------------------------- */

typedef struct moestream_engine moestream_engine;

enum { MOESTREAM_LOG_INFO = 0, MOESTREAM_LOG_WARNING = 1 };
/* Called with one line (no newline) from the thread that logs; `message` is valid during the
 * call only. Must not call back into the same engine. */
typedef void (*moestream_log_fn)(void* user_data, int level, const char* message);

typedef struct moestream_engine_options {
  uint32_t struct_size;
  uint64_t ram_budget_bytes;    /* > 0: stream experts so the process stays under this; 0: all in memory */
  int32_t threads;              /* kernel threads; 0 = all cores (process-wide) */
  int32_t max_context;          /* tokens per sequence, prompt + answer (default 4096) */
  int32_t max_sequences;        /* requests computed together (default 4) */
  int32_t kv_cache_bf16;        /* 1: bfloat16 KV cache (half the memory); default 0 (float32) */
  uint64_t prefix_cache_bytes;  /* RAM for reused prompt prefixes (default 64 MiB; 0 = off) */
  const char* prefix_cache_dir; /* NULL, or a directory where prefixes persist across restarts */
  moestream_log_fn log;         /* NULL: log lines are dropped */
  void* log_user_data;
} moestream_engine_options;

void moestream_engine_options_init(moestream_engine_options* options);

/* Opens a .mst model. On success *engine owns everything the model needs; release it with
 * moestream_engine_close. Thread-safe (engines are independent). */
moestream_status moestream_engine_open(const char* path, const moestream_engine_options* options,
                                       moestream_engine** engine);
/* Cancels what is still running, waits for it, frees the engine. NULL is a no-op. Call once,
 * after every request of this engine has been freed or waited for, from any one thread. */
void moestream_engine_close(moestream_engine* engine);

/* ---- Generation --------------------------------------------------------------------- */

typedef struct moestream_message {
  const char* role;    /* "system", "user" or "assistant" */
  const char* content; /* UTF-8 */
} moestream_message;

/* Called for each piece of generated text (valid UTF-8, `text` not NUL-terminated, valid during
 * the call only), on the engine's scheduler thread. `token` is the id, or -1 for text released
 * at the end. Return 0 to go on, non-zero to stop the request (it finishes as cancelled).
 * Keep it short: it runs inside the engine's loop. */
typedef int (*moestream_token_fn)(void* user_data, int32_t token, const char* text, size_t text_len);

typedef struct moestream_generate_options {
  uint32_t struct_size;
  int32_t max_tokens;     /* default 256 */
  float temperature;      /* default 0: greedy */
  float top_p;            /* default 1 */
  int32_t top_k;          /* default 0: off */
  uint64_t seed;          /* default 0 */
  int32_t thinking;       /* chat only, V3.1 models: 1 = thinking mode */
  int32_t ignore_eos;     /* 1: keep going after the end-of-sentence token */
  const char* const* stop; /* stop strings (NULL or stop_count of them, at most 16) */
  size_t stop_count;
  moestream_token_fn on_token; /* NULL: no streaming */
  void* user_data;
  /* Grammar-constrained answers (docs/structured-output.md): NULL = free text; "" = one JSON
   * object; otherwise the text of a JSON Schema the answer must validate against (an
   * unsupported keyword is MOESTREAM_ERR_INVALID_ARGUMENT, named in moestream_last_error). */
  const char* json_schema;
} moestream_generate_options;

void moestream_generate_options_init(moestream_generate_options* options);

enum { MOESTREAM_FINISH_STOP = 0, MOESTREAM_FINISH_LENGTH = 1, MOESTREAM_FINISH_CANCELLED = 2, MOESTREAM_FINISH_ERROR = 3 };

typedef struct moestream_result {
  uint32_t struct_size;   /* set by moestream_result_init */
  int32_t finish_reason;  /* MOESTREAM_FINISH_* */
  int64_t prompt_tokens;
  int64_t prompt_cache_hit_tokens; /* of them, reused from the prefix cache */
  int64_t completion_tokens;
  double queued_seconds, prefill_seconds, decode_seconds, tokens_per_second;
  double expert_hits, expert_misses, expert_bytes_read, expert_stall_seconds; /* this request's share */
} moestream_result;

void moestream_result_init(moestream_result* result);

typedef struct moestream_request moestream_request;

/* Queues a chat (rendered with the model's template) or a prompt of token ids, and returns at
 * once with a request to wait for or cancel. Thread-safe: any number of threads may submit to
 * one engine; the engine batches them. */
moestream_status moestream_submit_chat(moestream_engine* engine, const moestream_message* messages,
                                       size_t message_count, const moestream_generate_options* options,
                                       moestream_request** request);
moestream_status moestream_submit_tokens(moestream_engine* engine, const int32_t* tokens, size_t token_count,
                                         const moestream_generate_options* options, moestream_request** request);
/* Asks the request to stop. Thread-safe, from any thread, any number of times. */
moestream_status moestream_request_cancel(moestream_request* request);
/* Blocks until the request has finished and fills *result (may be NULL). A request that failed
 * returns its error status (and still fills *result). Thread-safe. */
moestream_status moestream_request_wait(moestream_request* request, moestream_result* result);
/* The whole generated text so far as a NUL-terminated string, valid until the request is freed.
 * Call after moestream_request_wait. */
const char* moestream_request_text(const moestream_request* request);
/* Cancels if still running, waits, frees. NULL is a no-op. */
void moestream_request_free(moestream_request* request);

/* submit + wait + free, for one-shot callers; the text goes to on_token. */
moestream_status moestream_chat(moestream_engine* engine, const moestream_message* messages, size_t message_count,
                                const moestream_generate_options* options, moestream_result* result);

/* ---- Tokens and statistics ---------------------------------------------------------- */

/* Token ids of `text` (no BOS). Writes at most `capacity` ids to `tokens` and the total count to
 * *count; a short buffer returns MOESTREAM_ERR_INVALID_ARGUMENT with *count set to what is
 * needed. Thread-safe. */
moestream_status moestream_tokenize(moestream_engine* engine, const char* text, int32_t* tokens, size_t capacity,
                                    size_t* count);

typedef struct moestream_engine_stats {
  uint32_t struct_size;
  uint64_t steps, generated_tokens;
  uint64_t expert_bytes_read, expert_hits, expert_misses;
  uint64_t prefix_cache_hit_tokens;
  int64_t running, waiting;
} moestream_engine_stats;

void moestream_engine_stats_init(moestream_engine_stats* stats);
/* A snapshot. Thread-safe. */
moestream_status moestream_engine_get_stats(moestream_engine* engine, moestream_engine_stats* stats);

#ifdef __cplusplus
}
#endif

#endif /* MOESTREAM_MOESTREAM_H_ */
