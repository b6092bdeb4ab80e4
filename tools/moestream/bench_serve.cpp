#include "bench_serve.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "engine_flags.h"
#include "platform/clock.h"
#include "runtime/engine/engine.h"
#include "server/http_server.h"

namespace moestream::cli {
namespace {

struct Run {
  double seconds = 0;
  uint64_t tokens = 0;
  std::vector<double> ttft;  // seconds, per client
  int failed = 0;
  double tok_s() const { return seconds > 0 ? static_cast<double>(tokens) / seconds : 0; }
  double median_ttft() const {
    if (ttft.empty()) return 0;
    std::vector<double> v = ttft;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
};

std::vector<int32_t> prompt_of(int i, int64_t length) {
  std::vector<int32_t> p = {0};
  for (int64_t t = 1; t < length; ++t) p.push_back(static_cast<int32_t>(1000 + (i * 7919 + t * 104729) % 90000));
  return p;
}

}  // namespace

int run_bench_serve(int argc, char** argv) {
  ArgParser args("bench serve", "The HTTP server under concurrent streaming clients against the engine alone.");
  std::string model_path, sizes_text = "1,8,64";
  int64_t new_tokens = 32, prompt_tokens = 16;
  args.positional("MODEL.mst", &model_path, "the model container (with a tokenizer)");
  args.option("--clients", &sizes_text, "N,N,...", "concurrent clients per round (default 1,8,64)");
  args.option("--new-tokens", &new_tokens, "N", "tokens each client asks for (default 32)");
  args.option("--prompt-tokens", &prompt_tokens, "N", "prompt tokens per client (default 16)");
  EngineFlags engine_flags;
  engine_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  std::string bad;
  const auto counts = parse_count_list(sizes_text, 1024, &bad);
  if (!counts) {
    std::fprintf(stderr, "moestream bench serve: --clients takes counts 1..1024, got '%s'\n", bad.c_str());
    return 2;
  }
  const std::vector<int> sizes(counts->begin(), counts->end());
  if (sizes.empty() || new_tokens < 1 || prompt_tokens < 1) {
    std::fprintf(stderr, "moestream bench serve: --clients, --new-tokens and --prompt-tokens must be positive\n");
    return 2;
  }
  engine_flags.parallel = *std::max_element(sizes.begin(), sizes.end());
  engine_flags.max_context = prompt_tokens + new_tokens + 64;
  auto options = engine_flags.to_options(args);
  if (!options.ok()) {
    std::fprintf(stderr, "moestream bench serve: %s\n", options.status().message().c_str());
    return 2;
  }
  options->prefix_cache.ram_bytes = 0;

  // The engine alone: N requests submitted at once, streamed through callbacks.
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  std::shared_ptr<Engine> shared(std::move(engine).value());
  auto direct = [&](int n) {
    Run run;
    std::vector<RequestHandle> handles;
    std::vector<std::atomic<uint64_t>> first(static_cast<size_t>(n));
    const uint64_t start = now_ns();
    for (int i = 0; i < n; ++i) {
      GenerationRequest r;
      r.prompt = prompt_of(i, prompt_tokens);
      r.max_tokens = new_tokens;
      r.ignore_eos = true;
      std::atomic<uint64_t>* slot = &first[static_cast<size_t>(i)];
      r.on_token = [slot](const TokenEvent&) {
        uint64_t zero = 0;
        slot->compare_exchange_strong(zero, now_ns());
      };
      handles.push_back(shared->submit(std::move(r)));
    }
    for (RequestHandle& h : handles) run.tokens += static_cast<uint64_t>(h.wait().usage.completion_tokens);
    run.seconds = static_cast<double>(now_ns() - start) * 1e-9;
    for (auto& f : first) run.ttft.push_back(static_cast<double>(f.load() - start) * 1e-9);
    return run;
  };
  // The same engine behind the HTTP server: the same cache, the same token prompts (sent to
  // /v1/completions as token ids), streamed to N clients.
  server::ServerOptions so;
  so.port = 0;
  so.max_queued = 1024;
  auto srv = server::HttpServer::start(shared, engine_flags.parallel, so);
  if (!srv.ok()) return report_error(srv.status());
  const int port = (*srv)->bound_port();
  auto over_http = [&](int n) {
    Run run;
    std::vector<double> ttft(static_cast<size_t>(n), 0);
    std::vector<uint64_t> tokens(static_cast<size_t>(n), 0);
    std::atomic<int> failed{0};
    std::vector<std::thread> clients;
    const uint64_t start = now_ns();
    for (int i = 0; i < n; ++i) {
      clients.emplace_back([&, i] {
        httplib::Client c("127.0.0.1", port);
        c.set_read_timeout(600);
        std::string ids;
        for (int32_t t : prompt_of(i, prompt_tokens)) {
          if (!ids.empty()) ids.push_back(',');
          ids.append(std::to_string(t));
        }
        const std::string body = "{\"prompt\": [" + ids + "], \"max_tokens\": " + std::to_string(new_tokens) +
                                 ", \"temperature\": 0, \"stream\": true}";
        httplib::Request req;
        req.method = "POST";
        req.path = "/v1/completions";
        req.body = body;
        req.set_header("Content-Type", "application/json");
        req.content_receiver = [&, i](const char* data, size_t len, uint64_t, uint64_t) {
          const std::string chunk(data, len);
          size_t events = 0;
          for (size_t pos = 0; (pos = chunk.find("\"text\":\"", pos)) != std::string::npos; ++pos) {
            if (chunk.compare(pos + 8, 1, "\"") != 0) ++events;  // a non-empty piece
          }
          if (events > 0 && ttft[static_cast<size_t>(i)] == 0) ttft[static_cast<size_t>(i)] = static_cast<double>(now_ns() - start) * 1e-9;
          tokens[static_cast<size_t>(i)] += events;
          return true;
        };
        auto res = c.send(req);
        if (!res || res->status != 200) ++failed;
      });
    }
    for (auto& t : clients) t.join();
    run.seconds = static_cast<double>(now_ns() - start) * 1e-9;
    for (int i = 0; i < n; ++i) run.tokens += tokens[static_cast<size_t>(i)], run.ttft.push_back(ttft[static_cast<size_t>(i)]);
    run.failed = failed;
    return run;
  };
  direct(1);  // warm-up: pages in the weights
  over_http(1);
  std::printf("%-8s %14s %14s %12s %16s %16s %10s\n", "clients", "engine tok/s", "server tok/s", "server/engine",
              "engine TTFT ms", "server TTFT ms", "failed");
  for (size_t k = 0; k < sizes.size(); ++k) {
    // Engine alone then server, back to back at each size, on the same warm engine.
    const Run e = direct(sizes[k]);
    const Run h = over_http(sizes[k]);
    std::printf("%-8d %14.1f %14.1f %12.3f %16.1f %16.1f %10d\n", sizes[k], e.tok_s(), h.tok_s(),
                e.tok_s() > 0 ? h.tok_s() / e.tok_s() : 0, e.median_ttft() * 1e3, h.median_ttft() * 1e3, h.failed);
  }
  std::printf("(server tok/s counts streamed text pieces: a token whose text is held back, part of a character, is counted later)\n");
  return 0;
}

}  // namespace moestream::cli
