#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "api/chat_stream.h"
#include "api/json_body.h"
#include "platform/clock.h"
#include "server/metrics.h"
#include "server/web/chat_page.h"

namespace moestream::server {
namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump(api::error_body(message, api::error_type(status), status)), "application/json");
}

// The body as JSON, or the error sent (413 over the limit, 400 not JSON or nested too deep).
std::optional<json> read_body(const httplib::Request& req, httplib::Response& res, size_t max_bytes) {
  if (req.body.size() > max_bytes) {
    send_error(res, 413, "the body has " + std::to_string(req.body.size()) + " bytes; the limit is " + std::to_string(max_bytes));
    return std::nullopt;
  }
  auto body = api::parse_json_body(req.body, max_bytes);
  if (!body.ok()) {
    send_error(res, 400, body.status().message());
    return std::nullopt;
  }
  return std::move(body).value();
}

// Compares keys in time independent of where they differ.
bool same_key(const std::string& given, const std::string& expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i % std::max<size_t>(1, expected.size())]);
  return diff == 0;
}

// cpp-httplib listens with a backlog of 5 (compiled into Debian's library): 64 clients that
// connect in the same instant overflow it and some get reset. listen() again on the same
// socket raises the backlog; the socket is found as the listening one bound to our port.
void widen_listen_backlog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof(addr);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = -1;
    if (addr.ss_family == AF_INET) bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port) ::listen(fd, 1024);
  }
}

std::string random_id() {
  static std::mutex mutex;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mutex);
  char text[24];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(rng()));
  return text;
}

// What a streaming response shares between the engine's callbacks and httplib's writer.
struct StreamState {
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<std::string> events;
  bool finished = false;
  GenerationResult result;
  RequestHandle handle;
  uint64_t started_ns = now_ns(), last_token_ns = 0;
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions options;
  EngineOptions engine_options;
  std::string model_path;
  httplib::Server http;
  int port = 0;
  std::thread listener, loader;
  std::mutex load_mutex;
  std::condition_variable load_cv;
  bool load_done = false;
  Status load_status;
  std::shared_ptr<Engine> engine;  // set once loaded; handlers hold a reference while they use it
  Metrics metrics;
  std::atomic<int64_t> in_flight{0};

  std::shared_ptr<Engine> ready() {
    std::lock_guard<std::mutex> lock(load_mutex);
    return load_done && load_status.ok() ? engine : nullptr;
  }
  bool authorized(const httplib::Request& req) const;
  void routes();
  void chat_completions(const httplib::Request& req, httplib::Response& res);
  void completions(const httplib::Request& req, httplib::Response& res);
  bool admit(httplib::Response& res);
  void record(const GenerationResult& r, uint64_t arrival_ns);
  template <class MakeChunks, class Finish>
  void stream(Engine& engine, httplib::Response& res, GenerationRequest request, uint64_t arrival_ns, MakeChunks make_chunks,
              Finish finish);
};

bool HttpServer::Impl::authorized(const httplib::Request& req) const {
  if (options.api_key.empty()) return true;
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.compare(0, prefix.size(), prefix) != 0) return false;
  return same_key(header.substr(prefix.size()), options.api_key);
}

bool HttpServer::Impl::admit(httplib::Response& res) {
  const int64_t limit = engine_options.max_sequences + options.max_queued;
  if (in_flight.fetch_add(1) >= limit) {
    in_flight.fetch_sub(1);
    ++metrics.rejected_queue_full;
    send_error(res, 429, "too many requests: " + std::to_string(limit) + " are running or queued; retry later");
    return false;
  }
  ++metrics.requests;
  return true;
}

void HttpServer::Impl::record(const GenerationResult& r, uint64_t arrival_ns) {
  (void)arrival_ns;
  in_flight.fetch_sub(1);
  if (r.finish == FinishReason::kError) ++metrics.requests_failed;
  metrics.prompt_tokens += static_cast<uint64_t>(r.usage.prompt_tokens);
  metrics.prompt_cache_hit_tokens += static_cast<uint64_t>(r.usage.prompt_cache_hit_tokens);
  metrics.generated_tokens += static_cast<uint64_t>(r.usage.completion_tokens);
}

// Streams a request as SSE: make_chunks(event) gives the JSON chunks of one token event,
// finish(result) the closing ones. A client that goes away cancels the request; a request past
// the timeout is cancelled; while it waits for its turn the stream carries keep-alive comments.
template <class MakeChunks, class Finish>
void HttpServer::Impl::stream(Engine& engine, httplib::Response& res, GenerationRequest request, uint64_t arrival_ns,
                              MakeChunks make_chunks, Finish finish) {
  auto st = std::make_shared<StreamState>();
  request.on_token = [this, st, make_chunks](const TokenEvent& event) mutable {
    const uint64_t now = now_ns();
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->last_token_ns == 0) metrics.time_to_first_token.observe(static_cast<double>(now - st->started_ns) * 1e-9);
    else metrics.inter_token.observe(static_cast<double>(now - st->last_token_ns) * 1e-9);
    st->last_token_ns = now;
    for (const json& chunk : make_chunks(event)) st->events.push_back("data: " + dump(chunk) + "\n\n");
    st->cv.notify_all();
  };
  request.on_finish = [this, st, arrival_ns](const GenerationResult& r) {
    record(r, arrival_ns);
    std::lock_guard<std::mutex> lock(st->mutex);
    st->result = r;
    st->finished = true;
    st->cv.notify_all();
  };
  st->handle = engine.submit(std::move(request));
  {
    std::lock_guard<std::mutex> lock(st->mutex);
    if (st->finished && st->result.finish == FinishReason::kError) {  // refused before it ran
      send_error(res, api::http_status(st->result.error), st->result.error.message());
      return;
    }
  }
  const double timeout = options.request_timeout_s;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [st, finish, timeout](size_t, httplib::DataSink& sink) mutable {
        std::unique_lock<std::mutex> lock(st->mutex);
        st->cv.wait_for(lock, std::chrono::seconds(5), [&] { return !st->events.empty() || st->finished; });
        if (static_cast<double>(now_ns() - st->started_ns) * 1e-9 > timeout) st->handle.cancel();
        if (st->events.empty() && !st->finished) {
          lock.unlock();
          return sink.write(": keep-alive\n\n", 14);  // queued or slow: keep the connection open
        }
        std::deque<std::string> out;
        out.swap(st->events);
        const bool finished = st->finished;
        const GenerationResult result = finished ? st->result : GenerationResult();
        lock.unlock();
        for (const std::string& e : out)
          if (!sink.write(e.data(), e.size())) return false;
        if (!finished) return true;
        for (const json& chunk : finish(result)) {
          const std::string e = "data: " + dump(chunk) + "\n\n";
          if (!sink.write(e.data(), e.size())) return false;
        }
        const std::string done = "data: [DONE]\n\n";
        sink.write(done.data(), done.size());
        sink.done();
        return true;
      },
      [st](bool) { st->handle.cancel(); });  // a no-op once finished; else the client left
}

void HttpServer::Impl::chat_completions(const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<Engine> e = ready();
  if (!e) return send_error(res, 503, "the model is loading");
  const uint64_t arrival = now_ns();
  auto body = read_body(req, res, options.max_body_bytes);
  if (!body) return;
  if (body->is_object() && body->contains("model") && (*body)["model"].is_string()) {
    const std::string model = (*body)["model"].get<std::string>();
    if (model != options.model_name && model != "deepseek-chat" && model != "deepseek-reasoner")
      return send_error(res, 404, "model '" + model + "' does not exist; GET /v1/models lists the models");
  }
  if (options.default_response_format && body->is_object() && !body->contains("response_format")) {
    (*body)["response_format"] = *options.default_response_format;
  }
  auto parsed = api::parse_chat_completion(*body, *e);
  if (!parsed.ok()) return send_error(res, api::http_status(parsed.status()), parsed.status().message());
  if (!admit(res)) return;
  auto completion = std::make_shared<api::ChatCompletion>(std::move(parsed).value());
  const std::string id = "chatcmpl-" + random_id();
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  if (completion->stream) {
    auto chat = std::make_shared<api::ChatStream>(*completion, id, created);
    stream(
        *e, res, completion->request, arrival,
        [chat, completion](const TokenEvent& ev) { return chat->on_token(ev); },
        [chat, completion](const GenerationResult& r) { return chat->finish(r); });
    return;
  }
  auto events = std::make_shared<std::vector<TokenEvent>>();
  GenerationRequest request = completion->request;
  if (request.logprobs) request.on_token = [events](const TokenEvent& ev) { events->push_back(ev); };
  request.on_finish = [this, arrival](const GenerationResult& r) { record(r, arrival); };
  RequestHandle handle = e->submit(std::move(request));
  const uint64_t deadline = arrival + static_cast<uint64_t>(options.request_timeout_s * 1e9);
  while (!handle.done()) {
    if (now_ns() > deadline) handle.cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const GenerationResult r = handle.wait();
  if (r.finish == FinishReason::kError && r.usage.completion_tokens == 0) {
    return send_error(res, api::http_status(r.error), r.error.message());
  }
  res.set_content(dump(api::chat_completion_body(*completion, r, id, created, *events, e->tokenizer())), "application/json");
}

void HttpServer::Impl::completions(const httplib::Request& req, httplib::Response& res) {
  std::shared_ptr<Engine> e = ready();
  if (!e) return send_error(res, 503, "the model is loading");
  const uint64_t arrival = now_ns();
  auto body = read_body(req, res, options.max_body_bytes);
  if (!body) return;
  const json& b = *body;
  if (!b.is_object() || !b.contains("prompt") || !(b["prompt"].is_string() || b["prompt"].is_array()))
    return send_error(res, 400, "'prompt' is required: a string or a list of token ids");
  GenerationRequest request;
  std::string prompt;
  if (b["prompt"].is_array()) {  // token ids, as the OpenAI API allows: used as they are
    for (const json& t : b["prompt"]) {
      if (!t.is_number_integer()) return send_error(res, 400, "'prompt' as a list holds token ids (integers)");
      request.prompt.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
  } else {
    if (!e->tokenizer()) return send_error(res, 422, "the model has no tokenizer");
    prompt = b["prompt"].get<std::string>();
    std::string text = prompt;
    if (b.contains("suffix") && b["suffix"].is_string()) {  // fill in the middle
      text = "<｜fim▁begin｜>" + prompt + "<｜fim▁hole｜>" + b["suffix"].get<std::string>() + "<｜fim▁end｜>";
    }
    if (const auto bos = e->tokenizer()->bos_id()) request.prompt.push_back(*bos);
    for (int32_t t : e->tokenizer()->encode(text)) request.prompt.push_back(t);
  }
  // Sampling, stop and max_tokens as for chat: reuse the chat parser's checks on a stand-in.
  json chat = b;
  chat.erase("prompt");
  chat.erase("suffix");
  chat.erase("echo");
  const bool echo = b.value("echo", false);
  int64_t logprobs = 0;
  if (b.contains("logprobs") && b["logprobs"].is_number_integer()) logprobs = b["logprobs"].get<int64_t>();
  if (logprobs < 0 || logprobs > 20) return send_error(res, 422, "'logprobs' must be 0..20");
  chat.erase("logprobs");
  chat["messages"] = json::array({{{"role", "user"}, {"content", "x"}}});
  if (options.default_response_format && !chat.contains("response_format")) {
    chat["response_format"] = *options.default_response_format;
  }
  chat.erase("tools");  // a raw completion has no tool-call format to constrain
  auto parsed = api::parse_chat_completion(chat, *e);
  if (!parsed.ok()) return send_error(res, api::http_status(parsed.status()), parsed.status().message());
  GenerationRequest& p = parsed->request;
  request.sampling = p.sampling;
  request.max_tokens = p.max_tokens;
  request.stop = p.stop;
  request.grammar = p.grammar;  // response_format: the completion is the JSON value itself
  request.logprobs = logprobs > 0;
  request.top_logprobs = logprobs;
  if (!admit(res)) return;
  const std::string id = "cmpl-" + random_id();
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  const std::string model = parsed->model;
  auto make = [id, created, model](const std::string& piece, const json& finish) {
    json c = {{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model}};
    c["choices"] = json::array({{{"text", piece}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", finish}}});
    return c;
  };
  if (parsed->stream) {
    auto first = std::make_shared<bool>(echo);
    stream(
        *e, res, std::move(request), arrival,
        [make, first, prompt](const TokenEvent& ev) {
          std::vector<json> out;
          if (*first) out.push_back(make(prompt, nullptr)), *first = false;
          if (!ev.text.empty()) out.push_back(make(ev.text, nullptr));
          return out;
        },
        [make](const GenerationResult& r) {
          return std::vector<json>{make("", r.finish == FinishReason::kLength ? "length" : "stop")};
        });
    return;
  }
  auto events = std::make_shared<std::vector<TokenEvent>>();
  request.on_token = [events](const TokenEvent& ev) { events->push_back(ev); };
  request.on_finish = [this, arrival](const GenerationResult& r) { record(r, arrival); };
  const GenerationResult r = e->generate(std::move(request));
  if (r.finish == FinishReason::kError) return send_error(res, api::http_status(r.error), r.error.message());
  json out = make((echo ? prompt : std::string()) + r.text, r.finish == FinishReason::kLength ? "length" : "stop");
  if (logprobs > 0) {
    json tokens = json::array(), token_logprobs = json::array(), top = json::array();
    for (const TokenEvent& ev : *events) {
      if (ev.token < 0) continue;
      tokens.push_back(e->tokenizer() ? std::string(e->tokenizer()->token_bytes(ev.token)) : std::to_string(ev.token));
      token_logprobs.push_back(ev.logprob);
      json alternatives = json::object();
      for (const auto& [token, lp] : ev.top_logprobs)
        alternatives[e->tokenizer() ? std::string(e->tokenizer()->token_bytes(token)) : std::to_string(token)] = lp;
      top.push_back(alternatives);
    }
    out["choices"][0]["logprobs"] = {{"tokens", tokens}, {"token_logprobs", token_logprobs}, {"top_logprobs", top}};
  }
  out["usage"] = api::usage_body(r, 0);
  res.set_content(dump(out), "application/json");
}

void HttpServer::Impl::routes() {
  http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // The page itself and /health need no key (the page asks for it and sends it).
    if (req.path == "/health" || (req.path == "/" && req.method == "GET")) return httplib::Server::HandlerResponse::Unhandled;
    if (!authorized(req)) {
      send_error(res, 401, "authentication failed: send 'Authorization: Bearer <key>' with the server's key");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) send_error(res, 404, "no route " + req.method + " " + req.path);
    else if (res.status == 413) send_error(res, 413, "the body is too large");
    else send_error(res, res.status, "request failed");
  });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(load_mutex);
    if (!load_done) return send_error(res, 503, "the model is loading");
    if (!load_status.ok()) return send_error(res, 500, "the model failed to load: " + load_status.message());
    res.set_content(R"({"status":"ok"})", "application/json");
  });
  http.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    std::shared_ptr<Engine> e = ready();
    if (!e) return send_error(res, 503, "the model is loading");
    json data = json::array();
    const int64_t created = static_cast<int64_t>(std::time(nullptr));
    std::vector<std::string> ids = {options.model_name, "deepseek-chat"};
    if (e->chat_template() == ChatTemplateKind::kDeepSeekV31) ids.push_back("deepseek-reasoner");
    for (const std::string& id : ids)
      data.push_back({{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "moestream"},
                      {"context_length", e->max_context()}});
    res.set_content(dump({{"object", "list"}, {"data", data}}), "application/json");
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { chat_completions(req, res); });
  http.Post("/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { chat_completions(req, res); });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res); });
  http.Post("/tokenize", [this](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<Engine> e = ready();
    if (!e || !e->tokenizer()) return send_error(res, 503, "the model (or its tokenizer) is not loaded");
    auto body = read_body(req, res, options.max_body_bytes);
    if (!body) return;
    if (!body->is_object() || !body->contains("content") || !(*body)["content"].is_string())
      return send_error(res, 400, "'content' is required: a string");
    EncodeOptions encode;
    encode.add_bos = body->value("add_special", false);
    res.set_content(dump({{"tokens", e->tokenizer()->encode((*body)["content"].get<std::string>(), encode)}}), "application/json");
  });
  http.Post("/detokenize", [this](const httplib::Request& req, httplib::Response& res) {
    std::shared_ptr<Engine> e = ready();
    if (!e || !e->tokenizer()) return send_error(res, 503, "the model (or its tokenizer) is not loaded");
    auto body = read_body(req, res, options.max_body_bytes);
    if (!body) return;
    if (!body->is_object() || !body->contains("tokens") || !(*body)["tokens"].is_array())
      return send_error(res, 400, "'tokens' is required: a list of ids");
    std::vector<int32_t> ids;
    for (const json& t : (*body)["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= e->tokenizer()->id_limit())
        return send_error(res, 422, "'tokens' holds an id outside the vocabulary");
      ids.push_back(t.get<int32_t>());
    }
    res.set_content(dump({{"content", e->tokenizer()->decode(ids)}}), "application/json");
  });
  // The web page's telemetry: the engine and the expert cache now, as JSON.
  http.Get("/v1/moestream/stats", [this](const httplib::Request&, httplib::Response& res) {
    std::shared_ptr<Engine> e = ready();
    if (!e) return send_error(res, 503, "the model is loading");
    const EngineStats s = e->stats();
    json layers = json::array();
    const std::vector<LayerCacheStats> per_layer = e->cache_stats();
    for (size_t l = 0; l < per_layer.size(); ++l) {
      const LayerCacheStats& st = per_layer[l];
      if (st.accesses() == 0) continue;
      layers.push_back({{"layer", l}, {"hits", st.hits}, {"misses", st.misses}, {"bytes_read", st.bytes_read},
                        {"stall_s", static_cast<double>(st.stall_ns) * 1e-9}});
    }
    json out;
    out["model"] = options.model_name;
    out["streaming"] = !per_layer.empty();
    out["requests"] = {{"running", s.active}, {"waiting", s.queued}, {"total", metrics.requests.load()}};
    out["tokens"] = {{"generated", metrics.generated_tokens.load()}, {"prompt", metrics.prompt_tokens.load()},
                     {"prompt_cache_hit", metrics.prompt_cache_hit_tokens.load()}};
    out["engine"] = {{"steps", s.steps}, {"generated_tokens", s.generated_tokens}, {"forward_s", s.forward_s},
                     {"expert_bytes_read", s.expert_bytes_read}, {"expert_acquisitions", s.expert_acquisitions}};
    out["prefix_cache"] = {{"hit_tokens", s.prefix_cache.hit_tokens}, {"blocks_in_ram", s.prefix_cache.blocks_in_ram},
                           {"ram_bytes", s.prefix_cache.ram_bytes}};
    out["layers"] = layers;
    res.set_content(dump(out), "application/json");
  });
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:");
    res.set_content(std::string(chat_page_html()), "text/html; charset=utf-8");
  });
  http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const std::shared_ptr<Engine> e = ready();
    res.set_content(metrics.format(e.get()), "text/plain; version=0.0.4");
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(std::shared_ptr<Engine> engine, int64_t parallel,
                                                       const ServerOptions& options) {
  if (!engine) return invalid_argument("no engine");
  EngineOptions eo;
  eo.max_sequences = parallel;
  MOESTREAM_ASSIGN_OR_RETURN(auto server, start(std::string(), eo, options));
  std::lock_guard<std::mutex> lock(server->impl_->load_mutex);
  server->impl_->engine = std::move(engine);
  server->impl_->load_done = true;
  server->impl_->load_cv.notify_all();
  return server;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& model_path, const EngineOptions& engine,
                                                       const ServerOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->engine_options = engine;
  impl->model_path = model_path;
  if (impl->options.model_name.empty()) {
    impl->options.model_name = model_path.empty() ? "moestream" : std::filesystem::path(model_path).stem().string();
  }
  const int threads = options.http_threads > 0
                          ? options.http_threads
                          : static_cast<int>(engine.max_sequences + options.max_queued + 8);
  impl->http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  impl->http.set_payload_max_length(options.max_body_bytes * 2);
  impl->http.set_read_timeout(60);
  impl->routes();
  if (options.port == 0) {
    impl->port = impl->http.bind_to_any_port(options.host);
  } else {
    impl->port = impl->http.bind_to_port(options.host, options.port) ? options.port : -1;
  }
  if (impl->port <= 0) {
    return io_error("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                    " (in use, or not an address of this machine)");
  }
  widen_listen_backlog(impl->port);
  Impl* raw = impl.get();
  impl->listener = std::thread([raw] { raw->http.listen_after_bind(); });
  if (model_path.empty()) return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));  // engine given
  impl->loader = std::thread([raw] {
    auto e = Engine::open(raw->model_path, raw->engine_options);
    std::lock_guard<std::mutex> lock(raw->load_mutex);
    if (e.ok()) raw->engine = std::shared_ptr<Engine>(std::move(e).value());
    else raw->load_status = e.status();
    raw->load_done = true;
    raw->load_cv.notify_all();
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  stop();
  if (impl_->loader.joinable()) impl_->loader.join();
  // Running streams end (cancelled) so the worker threads can be joined.
  if (std::shared_ptr<Engine> e = impl_->ready()) e->cancel_all();
  if (impl_->listener.joinable()) impl_->listener.join();
  impl_->engine.reset();
}

int HttpServer::bound_port() const { return impl_->port; }

Status HttpServer::wait_until_loaded() {
  std::unique_lock<std::mutex> lock(impl_->load_mutex);
  impl_->load_cv.wait(lock, [&] { return impl_->load_done; });
  return impl_->load_status;
}

void HttpServer::wait() {
  if (impl_->listener.joinable()) impl_->listener.join();
}

void HttpServer::stop() { impl_->http.stop(); }

}  // namespace moestream::server
