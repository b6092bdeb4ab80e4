// The engine in a few lines: open a model, render a chat with its template, stream the answer
// as it is generated, print usage and the expert-cache figures of the request.
//
//   example_embed MODEL.mst "Why is the sky blue?" [--ram-budget-mb N] [--thinking]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "runtime/engine/engine.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.mst \"question\" [--ram-budget-mb N] [--thinking]\n", argv[0]);
    return 2;
  }
  moestream::EngineOptions options;
  bool thinking = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--ram-budget-mb") == 0 && i + 1 < argc) {
      options.streaming.emplace();  // stream experts from the file under this budget
      options.streaming->ram_budget = std::strtoull(argv[++i], nullptr, 10) << 20;
    } else if (std::strcmp(argv[i], "--thinking") == 0) {
      thinking = true;
    }
  }
  options.log = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); };
  auto engine = moestream::Engine::open(argv[1], options);
  if (!engine.ok()) {
    std::fprintf(stderr, "error: %s\n", engine.status().to_string().c_str());
    return 1;
  }

  moestream::ChatMessage user;
  user.role = "user";
  user.content = argv[2];
  moestream::ChatTemplateOptions chat;
  chat.thinking = thinking;
  auto prompt = (*engine)->chat_prompt({user}, chat);
  if (!prompt.ok()) {
    std::fprintf(stderr, "error: %s\n", prompt.status().to_string().c_str());
    return 1;
  }

  moestream::GenerationRequest request;
  request.prompt = std::move(prompt).value();
  request.max_tokens = 64;
  request.sampling.temperature = 0.7;
  request.sampling.seed = 42;
  request.on_token = [](const moestream::TokenEvent& event) {  // valid UTF-8 pieces, in order
    std::fwrite(event.text.data(), 1, event.text.size(), stdout);
    std::fflush(stdout);
  };
  const moestream::GenerationResult result = (*engine)->generate(std::move(request));
  std::printf("\n");
  if (result.finish == moestream::FinishReason::kError) {
    std::fprintf(stderr, "error: %s\n", result.error.to_string().c_str());
    return 1;
  }
  std::fprintf(stderr, "finish: %s; prompt %lld tokens (%lld from the prefix cache), %lld generated at %.1f tok/s; "
               "experts: %.0f hits, %.0f misses, %.1f MB read\n",
               moestream::finish_reason_name(result.finish), static_cast<long long>(result.usage.prompt_tokens),
               static_cast<long long>(result.usage.prompt_cache_hit_tokens),
               static_cast<long long>(result.usage.completion_tokens), result.timings.tokens_per_second(),
               result.experts.hits, result.experts.misses, result.experts.bytes_read / 1e6);
  return 0;
}
