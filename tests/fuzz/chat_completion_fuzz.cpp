// libFuzzer: a chat-completions request body, as the server gets it, through the body limits
// and the request parser against a real engine (the mini model, written once per process).
// Any bytes must give a request or a clear error; never a crash, a hang or an exception.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include "api/chat_completion.h"
#include "api/json_body.h"
#include "format/synthetic_model.h"

namespace {

moestream::Engine& engine() {
  static std::unique_ptr<moestream::Engine> e = [] {
    const std::string dir = (std::filesystem::temp_directory_path() / ("moestream-fuzz-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir);
    moestream::SynthOptions o;
    o.preset = "mini";
    o.progress = false;
    if (!moestream::synthesize_container(o, dir + "/mini.mst").ok()) std::abort();
    moestream::EngineOptions options;
    options.max_context = 2048;
    auto opened = moestream::Engine::open(dir + "/mini.mst", options);
    if (!opened.ok()) std::abort();
    std::filesystem::remove_all(dir);  // the engine keeps the file mapped
    return std::move(opened).value();
  }();
  return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = moestream::api::parse_json_body(std::string_view(reinterpret_cast<const char*>(data), size), 1 << 20);
  if (!body.ok()) return 0;
  auto request = moestream::api::parse_chat_completion(*body, engine());
  if (request.ok()) {
    // A parsed request is usable: its prompt fits the vocabulary and its values their ranges.
    if (request->request.prompt.empty() || request->request.max_tokens < 1) std::abort();
    if (!request->request.sampling.check().ok()) std::abort();
  }
  return 0;
}
