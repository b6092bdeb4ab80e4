// `moestream serve MODEL.mst [--host 127.0.0.1] [--port 8080] [--api-key K | --api-key-file F]
// [--parallel N] [engine flags]`: the DeepSeek / OpenAI HTTP API on the engine
// (server/http_server.h). Stops cleanly on SIGINT / SIGTERM.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "output_format_flags.h"
#include "server/http_server.h"

namespace moestream::cli {
namespace {

int run_serve(int argc, char** argv) {
  ArgParser args("serve", "Serve the DeepSeek / OpenAI chat API (/v1/chat/completions, /v1/completions, "
                          "/v1/models, /health, /metrics, /tokenize, /detokenize) on the engine.");
  std::string model_path, host = "127.0.0.1", api_key, api_key_file, model_name;
  int64_t port = 8080, queue = 64, timeout = 600;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--host", &host, "ADDR", "address to listen on (default 127.0.0.1: this machine only)");
  args.option("--port", &port, "N", "TCP port (default 8080; 0 = any free port, printed)");
  args.option("--api-key", &api_key, "KEY", "require 'Authorization: Bearer KEY' (not for /health)");
  args.option("--api-key-file", &api_key_file, "FILE", "read the key from the first line of FILE");
  args.option("--queue", &queue, "N", "requests that may wait beyond --parallel before 429 (default 64)");
  args.option("--timeout", &timeout, "S", "cancel a request running longer than S seconds (default 600)");
  args.option("--model-name", &model_name, "NAME", "the model id /v1/models lists (default: the file name)");
  EngineFlags engine_flags;
  engine_flags.add_to(args);
  OutputFormatFlags output_format;
  output_format.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  auto usage = [](const std::string& message) {
    std::fprintf(stderr, "moestream serve: %s\n", message.c_str());
    return 2;
  };
  if (port < 0 || port > 65535) return usage("--port must be 0..65535");
  if (queue < 0 || queue > 100000) return usage("--queue must be 0..100000");
  if (timeout < 1) return usage("--timeout must be >= 1 second");
  if (!api_key.empty() && !api_key_file.empty()) return usage("give --api-key or --api-key-file, not both");
  if (!api_key_file.empty()) {
    std::ifstream in(api_key_file);
    if (!in || !std::getline(in, api_key) || api_key.empty()) return usage("--api-key-file: cannot read a key from " + api_key_file);
  }
  auto options = engine_flags.to_options(args);
  if (!options.ok()) return usage(options.status().message());
  if (Status s = output_format.load(); !s.ok()) return usage(s.message());
  server::ServerOptions so;
  so.default_response_format = output_format.response_format();
  so.host = host;
  so.port = static_cast<int>(port);
  so.api_key = api_key;
  so.max_queued = queue;
  so.request_timeout_s = static_cast<double>(timeout);
  so.model_name = model_name;

  // SIGINT / SIGTERM are taken by sigwait below, on this thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto server = server::HttpServer::start(model_path, *options, so);
  if (!server.ok()) return report_error(server.status());
  std::fprintf(stderr, "moestream serve: listening on http://%s:%d (loading %s)\n", host.c_str(),
               (*server)->bound_port(), model_path.c_str());
  if (Status s = (*server)->wait_until_loaded(); !s.ok()) return report_error(s);
  std::fprintf(stderr, "moestream serve: ready at http://%s:%d/v1 (Ctrl-C to stop)\n", host.c_str(),
               (*server)->bound_port());
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "moestream serve: stopping (signal %d)\n", signal_number);
  (*server)->stop();
  server->reset();
  std::fprintf(stderr, "moestream serve: stopped\n");
  return 0;
}

MOESTREAM_REGISTER_COMMAND("serve", "serve the DeepSeek / OpenAI chat API over HTTP on the engine", run_serve);

}  // namespace
}  // namespace moestream::cli
