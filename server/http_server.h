// `moestream serve`: the DeepSeek / OpenAI HTTP API on the engine. Every request goes to the
// engine's scheduler (so one expert read serves every request routed to it); the server only
// speaks the protocol: JSON and SSE in and out, keys, limits, metrics.
//
// Routes: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health,
// POST /tokenize, POST /detokenize, GET /metrics. Errors are {"error": {"message", "type",
// "code"}} with DeepSeek's status codes (400 malformed, 401 key, 404 route or model, 413 body
// too large, 422 invalid value, 429 queue full, 500, 503 loading).
//
// Ownership: the server owns its engine once it has loaded (the model loads in the
// background, /health answers 503 until then). Thread-safety: start() and stop() from one
// thread; requests are served on the server's own worker threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "platform/status.h"
#include "runtime/engine/engine_options.h"

namespace moestream {
class Engine;
}

namespace moestream::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (bound_port() tells which)
  std::string api_key;  // empty: no key needed
  int64_t max_queued = 64;  // requests waiting beyond the engine's parallel sequences -> 429
  uint64_t max_body_bytes = 8u << 20;
  double request_timeout_s = 600;  // a request still running after this is cancelled
  int http_threads = 0;  // 0: parallel + max_queued + 8 (every streaming client holds one)
  std::string model_name;  // the id /v1/models lists (default: the file name without .mst)
  // The response_format of chat requests that set none (serve --json / --json-schema).
  std::optional<nlohmann::ordered_json> default_response_format;
};

class HttpServer {
 public:
  // Binds the socket at once (errors: the port is taken, ...), then loads the model from
  // `model_path` in the background and serves.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& model_path, const EngineOptions& engine,
                                                   const ServerOptions& options);
  // Serves an engine that is already open (shared with the caller, e.g. a benchmark that
  // also submits to it directly). `parallel` is the engine's max_sequences.
  static Result<std::unique_ptr<HttpServer>> start(std::shared_ptr<Engine> engine, int64_t parallel,
                                                   const ServerOptions& options);
  ~HttpServer();  // stop()
  int bound_port() const;
  // Blocks until the model has loaded or failed; returns the load status.
  Status wait_until_loaded();
  // Blocks until stop() is called from another thread (or a signal handler calls it).
  void wait();
  void stop();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moestream::server
