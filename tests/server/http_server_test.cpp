// The HTTP server over loopback with a real HTTP client (cpp-httplib): the protocol on the
// mini model (real tokenizer, random words), every error status, streaming, concurrency,
// disconnects and the queue bound. Bounded in count and time.
#include "server/http_server.h"

#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "platform/memory_probe.h"
#include "runtime/engine/engine.h"
#include "support/mini_model.h"
#include "support/temp_dir.h"

using namespace moestream;
using json = nlohmann::json;

namespace {

std::string mini_model(const moestream::testing::TempDir& dir) { return moestream::testing::synth_mini_model(dir); }

struct Running {
  std::unique_ptr<server::HttpServer> server;
  std::unique_ptr<httplib::Client> client;
};

Running start(const std::string& model, server::ServerOptions so = {}, EngineOptions eo = {}) {
  so.port = 0;
  if (eo.max_context == 4096) eo.max_context = 512;
  auto s = server::HttpServer::start(model, eo, so);
  REQUIRE_MESSAGE(s.ok(), s.status().to_string());
  REQUIRE((*s)->wait_until_loaded().ok());
  Running r;
  r.client = std::make_unique<httplib::Client>("127.0.0.1", (*s)->bound_port());
  r.client->set_read_timeout(60);
  r.server = std::move(s).value();
  return r;
}

json post(httplib::Client& c, const std::string& path, const std::string& body, int* status = nullptr,
          const httplib::Headers& headers = {}) {
  auto res = c.Post(path, headers, body, "application/json");
  REQUIRE(res);
  if (status) *status = res->status;
  return json::parse(res->body, nullptr, false);
}

const char* kChat = R"({"model": "deepseek-chat", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 6)";

// The data: events of an SSE body, without the [DONE] marker; done tells whether it came.
std::vector<json> sse_events(const std::string& body, bool* done) {
  std::vector<json> out;
  *done = false;
  size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const size_t end = body.find("\n\n", pos);
    const std::string data = body.substr(pos + 6, end - pos - 6);
    pos = end;
    if (data == "[DONE]") *done = true;
    else out.push_back(json::parse(data));
  }
  return out;
}

}  // namespace

TEST_CASE("server: health, models, chat (plain and streamed with usage), reasoning, tokenize, metrics") {
  moestream::testing::TempDir dir;
  Running r = start(mini_model(dir));
  httplib::Client& c = *r.client;
  auto health = c.Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto models = json::parse(c.Get("/v1/models")->body);
  CHECK(models["object"] == "list");
  CHECK(models["data"].size() == 3);  // the file's name and the two V3.1 modes
  CHECK(models["data"][0]["id"] == "mini");

  int status = 0;
  json plain = post(c, "/v1/chat/completions", std::string(kChat) + "}", &status);
  REQUIRE(status == 200);
  CHECK(plain["object"] == "chat.completion");
  CHECK(plain["choices"][0]["message"]["role"] == "assistant");
  CHECK(plain["choices"][0]["finish_reason"] == "length");
  CHECK(plain["usage"]["completion_tokens"] == 6);
  CHECK(plain["usage"]["prompt_tokens"] == plain["usage"]["prompt_cache_hit_tokens"].get<int>() +
                                               plain["usage"]["prompt_cache_miss_tokens"].get<int>());
  CHECK(plain["usage"]["x_moestream"]["expert_hits"].get<double>() > 0);

  auto streamed = c.Post("/v1/chat/completions",
                         R"({"model": "deepseek-reasoner", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5,
                             "stream": true, "stream_options": {"include_usage": true}})", "application/json");
  REQUIRE(streamed);
  CHECK(streamed->status == 200);
  CHECK(streamed->get_header_value("Content-Type").find("text/event-stream") == 0);
  bool done = false;
  auto events = sse_events(streamed->body, &done);
  CHECK(done);
  REQUIRE(events.size() >= 3);
  CHECK(events.front()["choices"][0]["delta"]["role"] == "assistant");
  std::string reasoning;
  for (const json& e : events)
    if (!e["choices"].empty() && e["choices"][0]["delta"].contains("reasoning_content"))
      reasoning += e["choices"][0]["delta"]["reasoning_content"].get<std::string>();
  CHECK_FALSE(reasoning.empty());  // thinking mode: the output starts as reasoning
  CHECK(events[events.size() - 2]["choices"][0]["finish_reason"] == "length");
  CHECK(events.back()["choices"].empty());
  CHECK(events.back()["usage"]["completion_tokens"] == 5);

  json tokens = post(c, "/tokenize", R"({"content": "Hello world"})", &status);
  CHECK(status == 200);
  REQUIRE(tokens["tokens"].size() >= 2);
  json text = post(c, "/detokenize", json({{"tokens", tokens["tokens"]}}).dump(), &status);
  CHECK(text["content"] == "Hello world");

  json completion = post(c, "/v1/completions", R"({"prompt": "def add(a, b):", "suffix": "return c", "max_tokens": 3, "echo": true})", &status);
  CHECK(status == 200);
  CHECK(completion["object"] == "text_completion");
  CHECK(completion["choices"][0]["text"].get<std::string>().rfind("def add(a, b):", 0) == 0);

  const std::string metrics = c.Get("/metrics")->body;
  CHECK(metrics.find("moestream_requests_total 3") != std::string::npos);
  CHECK(metrics.find("moestream_generated_tokens_total 14") != std::string::npos);
  CHECK(metrics.find("moestream_time_to_first_token_seconds_count 1") != std::string::npos);
}

TEST_CASE("server: every bad input gets its status and the OpenAI error shape") {
  moestream::testing::TempDir dir;
  server::ServerOptions so;
  so.api_key = "sk-test-key";
  so.max_body_bytes = 64 * 1024;
  Running r = start(mini_model(dir), so);
  httplib::Client& c = *r.client;
  const httplib::Headers auth = {{"Authorization", "Bearer sk-test-key"}};
  struct Case {
    const char* name;
    std::string path, body;
    httplib::Headers headers;
    int status;
    const char* type;
    const char* says;
  };
  const std::vector<Case> cases = {
      {"no key", "/v1/chat/completions", std::string(kChat) + "}", {}, 401, "authentication_error", "authentication"},
      {"wrong key", "/v1/chat/completions", std::string(kChat) + "}", {{"Authorization", "Bearer sk-test-kez"}}, 401, "authentication_error", "authentication"},
      {"not JSON", "/v1/chat/completions", "{oops", auth, 400, "invalid_request_error", "JSON"},
      {"deep JSON", "/v1/chat/completions", std::string(20000, '[') + std::string(20000, ']'), auth, 400, "invalid_request_error", "deeper"},
      {"wrong type", "/v1/chat/completions", R"({"messages": "hi"})", auth, 400, "invalid_request_error", "messages"},
      {"no messages", "/v1/chat/completions", R"({"model": "deepseek-chat"})", auth, 400, "invalid_request_error", "messages"},
      {"bad role", "/v1/chat/completions", R"({"messages": [{"role": "robot", "content": "x"}]})", auth, 400, "invalid_request_error", "role"},
      {"temperature", "/v1/chat/completions", std::string(kChat) + R"(, "temperature": 9})", auth, 422, "invalid_request_error", "temperature"},
      {"top_logprobs", "/v1/chat/completions", std::string(kChat) + R"(, "logprobs": true, "top_logprobs": 50})", auth, 422, "invalid_request_error", "top_logprobs"},
      {"max_tokens", "/v1/chat/completions", std::string(kChat) + R"(, "max_tokens": 0})", auth, 422, "invalid_request_error", "max_tokens"},
      {"unknown model", "/v1/chat/completions", R"({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]})", auth, 404, "invalid_request_error", "gpt-9"},
      {"unknown route", "/v1/nothing", "{}", auth, 404, "invalid_request_error", "no route"},
      {"too large", "/v1/chat/completions", "{\"messages\": \"" + std::string(100 * 1024, 'x') + "\"}", auth, 413, "invalid_request_error", "limit"},
      {"bad tokens", "/detokenize", R"({"tokens": [1, -5]})", auth, 422, "invalid_request_error", "vocabulary"},
  };
  for (const Case& k : cases) {
    const std::string name = k.name;
    CAPTURE(name);
    auto res = c.Post(k.path, k.headers, k.body, "application/json");
    REQUIRE(res);
    CHECK(res->status == k.status);
    json body = json::parse(res->body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["error"]["code"] == k.status);
    CHECK(body["error"]["type"] == k.type);
    CHECK(body["error"]["message"].get<std::string>().find(k.says) != std::string::npos);
  }
  // /health needs no key; the right key works; the server still answers after all that.
  CHECK(c.Get("/health")->status == 200);
  int status = 0;
  post(c, "/v1/chat/completions", std::string(kChat) + "}", &status, auth);
  CHECK(status == 200);
}

TEST_CASE("server: 16 concurrent streams all finish, a full queue answers 429, a client that leaves is cancelled") {
  moestream::testing::TempDir dir;
  const std::string model = mini_model(dir);
  server::ServerOptions so;
  so.max_queued = 0;
  EngineOptions eo;
  eo.max_sequences = 16;
  Running r = start(model, so, eo);
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  const int port = r.server->bound_port();
  for (int i = 0; i < 16; ++i) {
    clients.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60);
      const std::string body = R"({"messages": [{"role": "user", "content": "question )" + std::to_string(i) +
                               R"("}], "max_tokens": 8, "stream": true})";
      auto res = c.Post("/v1/chat/completions", body, "application/json");
      bool done = false;
      if (res && res->status == 200) sse_events(res->body, &done);
      if (!done) MESSAGE("stream " << i << ": " << (res ? std::to_string(res->status) + " " + res->body.substr(0, 300) : httplib::to_string(res.error())));
      (done ? ok : failed)++;
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok.load() == 16);
  CHECK(failed.load() == 0);

  // Queue bound: parallel 1, queue 0: while one request runs, the next gets 429.
  EngineOptions one;
  one.max_sequences = 1;
  Running q = start(model, so, one);
  std::atomic<bool> first_token{false};
  std::thread holder([&] {
    httplib::Client c("127.0.0.1", q.server->bound_port());
    c.set_read_timeout(60);
    // Leaves after the first chunk: the server must cancel the long request.
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = R"({"messages": [{"role": "user", "content": "tell a long story"}], "max_tokens": 400, "stream": true})";
    req.set_header("Content-Type", "application/json");
    req.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) {
      first_token = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return false;
    };
    c.send(req);
  });
  while (!first_token) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int status = 0;
  json busy = post(*q.client, "/v1/chat/completions", std::string(kChat) + "}", &status);
  CHECK(status == 429);
  CHECK(busy["error"]["type"] == "rate_limit_error");
  holder.join();
  // The abandoned request is cancelled within a step or two, then there is room again.
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    post(*q.client, "/v1/chat/completions", std::string(kChat) + "}", &status);
    served = status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(served);
  const std::string metrics = q.client->Get("/metrics")->body;
  CHECK(metrics.find("moestream_requests_rejected_total") != std::string::npos);
}

TEST_CASE("server: 64 concurrent streaming clients under a RAM budget share expert reads") {
  moestream::testing::TempDir dir;
  const std::string model = mini_model(dir);
  EngineOptions eo;
  eo.max_sequences = 64;
  eo.max_context = 256;
  eo.streaming.emplace();
  eo.streaming->ram_budget = 1200ull << 20;
  eo.streaming->prefetch_margin = -1;
  eo.prefix_cache.ram_bytes = 0;  // distinct prompts anyway; keeps the byte counts plain
  // n clients at once against a fresh server (a cold expert cache): expert bytes per token.
  auto bytes_per_token = [&](int n) {
    Running r = start(model, {}, eo);
    const int port = r.server->bound_port();
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < n; ++i) {
      clients.emplace_back([&, i] {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(120);
        c.set_connection_timeout(30);
        const std::string body = R"({"messages": [{"role": "user", "content": "client )" + std::to_string(i) +
                                 R"( asks"}], "max_tokens": 6, "stream": true, "temperature": 0})";
        auto res = c.Post("/v1/chat/completions", body, "application/json");
        bool done = false;
        if (res && res->status == 200) sse_events(res->body, &done);
        if (!done) MESSAGE("client " << i << ": " << (res ? std::to_string(res->status) + " " + res->body.substr(0, 200) : httplib::to_string(res.error())));
        ok += done;
      });
    }
    for (auto& t : clients) t.join();
    CHECK(ok.load() == n);
    const std::string m = r.client->Get("/metrics")->body;
    CHECK(m.find("moestream_requests_failed_total 0") != std::string::npos);
    const size_t at = m.find("\nmoestream_expert_bytes_read_total ");
    REQUIRE(at != std::string::npos);
    return std::stod(m.substr(at + 35, m.find('\n', at + 1) - at - 35)) / (6.0 * n);
  };
  const double one = bytes_per_token(1);
  const double many = bytes_per_token(64);
  // The whole test process (the clients included) stayed under the engine's budget.
  MESSAGE("peak RSS " << moestream::peak_rss_bytes() / (1 << 20) << " MiB of the " << (1200) << " MiB budget");
  CHECK(moestream::peak_rss_bytes() <= eo.streaming->ram_budget);
  MESSAGE("expert bytes read per generated token: 1 client " << one << ", 64 clients " << many);
  CHECK(one > 0);
  CHECK(many < one / 4);
}

namespace {

// Serves experts until `budget` acquisitions, then fails every read: the engine running out
// of resources in the middle of an answer.
class FailingExperts : public ExpertProvider {
 public:
  FailingExperts(ExpertProvider& inner, int budget) : inner_(inner), left_(budget) {}
  Result<AcquiredExpert> acquire(int64_t layer, int64_t expert) override {
    if (left_-- <= 0) return io_error("injected: the expert store stopped answering");
    return inner_.acquire(layer, expert);
  }
  void release(const AcquiredExpert& e) override { inner_.release(e); }
  void reset(int budget) { left_ = budget; }

 private:
  ExpertProvider& inner_;
  std::atomic<int> left_;
};

}  // namespace

TEST_CASE("server: an engine failure mid-answer ends it with finish_reason insufficient_system_resource") {
  moestream::testing::TempDir dir;
  std::unique_ptr<FailingExperts> failing;
  EngineOptions eo;
  eo.max_context = 512;
  eo.wrap_experts = [&](const ContainerReader&, ExpertProvider& tier) -> Result<ExpertProvider*> {
    failing = std::make_unique<FailingExperts>(tier, 1 << 30);
    return failing.get();
  };
  auto engine = Engine::open(mini_model(dir), eo);
  REQUIRE(engine.ok());
  std::shared_ptr<Engine> shared(std::move(engine).value());
  server::ServerOptions so;
  so.port = 0;
  auto srv = server::HttpServer::start(shared, 4, so);
  REQUIRE(srv.ok());
  httplib::Client c("127.0.0.1", (*srv)->bound_port());
  c.set_read_timeout(60);
  const std::string body = R"({"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 50, "temperature": 0)";
  // Plain: some tokens, then the failure.
  failing->reset(60);
  int status = 0;
  json plain = post(c, "/v1/chat/completions", body + "}", &status);
  REQUIRE(status == 200);
  CHECK(plain["choices"][0]["finish_reason"] == "insufficient_system_resource");
  CHECK(plain["usage"]["completion_tokens"].get<int>() > 0);
  CHECK(plain["usage"]["completion_tokens"].get<int>() < 50);
  // Streamed: the last chunk says so, and the stream still ends with [DONE].
  failing->reset(60);
  auto res = c.Post("/v1/chat/completions", body + R"(, "stream": true})", "application/json");
  REQUIRE(res);
  bool done = false;
  auto events = sse_events(res->body, &done);
  CHECK(done);
  REQUIRE(!events.empty());
  CHECK(events.back()["choices"][0]["finish_reason"] == "insufficient_system_resource");
  // A failure before the first token is an error response, not an empty answer.
  failing->reset(0);
  json refused = post(c, "/v1/chat/completions", body + "}", &status);
  CHECK(status == 500);
  CHECK(refused["error"]["message"].get<std::string>().find("injected") != std::string::npos);
  failing->reset(1 << 30);
  (*srv)->stop();
}
