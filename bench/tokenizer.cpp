// Tokenizer throughput, single-threaded: encode MB/s and decode tokens/s (batch and the
// streaming decoder used during generation), per corpus file and in total.
//   bench_tokenizer [TOKENIZER_JSON] [FILE_OR_DIR...]
// Defaults: the vendored DeepSeek tokenizer and tests/data/tokenizer/corpus.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "platform/clock.h"
#include "text/tokenizer/token_stream_decoder.h"
#include "text/tokenizer/tokenizer.h"

#ifndef MOESTREAM_BENCH_SOURCE_DIR
#define MOESTREAM_BENCH_SOURCE_DIR "."
#endif

namespace fs = std::filesystem;
using namespace moestream;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs `fn` at least `min_seconds` (and at least twice: the first run warms the BPE cache,
// like a long-running server would be), returns seconds per run of the later runs.
template <typename Fn>
double time_per_run(Fn&& fn, double min_seconds = 0.3) {
  fn();
  int runs = 0;
  Stopwatch watch;
  do {
    fn();
    ++runs;
  } while (watch.elapsed_seconds() < min_seconds);
  return watch.elapsed_seconds() / runs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string source_dir = MOESTREAM_BENCH_SOURCE_DIR;
  std::string tokenizer_path = source_dir + "/third_party/deepseek-v3-tokenizer/tokenizer.json";
  std::vector<std::string> inputs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 5 && arg.substr(arg.size() - 5) == ".json") {
      tokenizer_path = arg;
    } else {
      inputs.push_back(arg);
    }
  }
  if (inputs.empty()) inputs.push_back(source_dir + "/tests/data/tokenizer/corpus");
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      for (const auto& e : fs::directory_iterator(input)) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
    } else {
      files.push_back(input);
    }
  }
  std::sort(files.begin(), files.end());

  Stopwatch load_watch;
  auto loaded = Tokenizer::from_file(tokenizer_path);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.status().to_string().c_str());
    return 1;
  }
  const Tokenizer& tokenizer = *loaded;
  double cold_seconds = 0;
  size_t cold_bytes = 0;
  std::printf("tokenizer loaded in %.0f ms from %s\n", load_watch.elapsed_seconds() * 1e3,
              tokenizer_path.c_str());
  // One pass over everything with an empty BPE word cache, as a fresh process would see it.
  // CPU time is printed too: on a busy machine wall time overstates the cost.
  double cold_cpu_seconds = 0;
  {
    size_t bytes = 0;
    std::clock_t cpu_start = std::clock();
    for (const auto& file : files) {
      std::string text = read_file(file);
      bytes += text.size();
      Stopwatch one;
      auto ids = tokenizer.encode(text);
      (void)ids;
      cold_seconds += one.elapsed_seconds();
    }
    cold_bytes = bytes;
    cold_cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  }
  std::printf("%-36s %10s %10s %12s %14s %14s\n", "file", "bytes", "tokens", "encode MB/s",
              "decode tok/s", "stream tok/s");
  double encode_seconds = 0, decode_seconds = 0, stream_seconds = 0;
  std::clock_t warm_cpu_start = std::clock();
  Stopwatch warm_watch;
  size_t total_bytes = 0, total_tokens = 0;
  for (const auto& file : files) {
    std::string text = read_file(file);
    if (text.empty()) continue;
    std::vector<int32_t> ids;
    double enc = time_per_run([&] { ids = tokenizer.encode(text); });
    double dec = time_per_run([&] {
      std::string s = tokenizer.decode(ids);
      if (s.empty()) std::printf(" ");
    });
    double stream = time_per_run([&] {
      TokenStreamDecoder decoder(tokenizer);
      size_t n = 0;
      for (int32_t id : ids) n += decoder.push(id).size();
      n += decoder.finish().size();
      if (n == 0) std::printf(" ");
    });
    total_bytes += text.size();
    total_tokens += ids.size();
    encode_seconds += enc;
    decode_seconds += dec;
    stream_seconds += stream;
    std::printf("%-36s %10zu %10zu %12.2f %14.0f %14.0f\n", fs::path(file).filename().string().c_str(),
                text.size(), ids.size(), text.size() / enc / 1e6, ids.size() / dec, ids.size() / stream);
  }
  std::printf("%-36s %10zu %10zu %12.2f %14.0f %14.0f\n", "TOTAL", total_bytes, total_tokens,
              total_bytes / encode_seconds / 1e6, total_tokens / decode_seconds,
              total_tokens / stream_seconds);
  double warm_cpu = static_cast<double>(std::clock() - warm_cpu_start) / CLOCKS_PER_SEC;
  double measured_wall_seconds = warm_watch.elapsed_seconds();
  std::printf("first pass, cold word cache: encode %.2f MB/s (%.2f MB per CPU second)\n",
              cold_bytes / cold_seconds / 1e6, cold_bytes / cold_cpu_seconds / 1e6);
  std::printf("CPU share during the timed runs: %.0f%% (below 100%% means other processes took the core)\n",
              100.0 * warm_cpu / std::max(1e-9, measured_wall_seconds));
  const double share = std::clamp(warm_cpu / std::max(1e-9, measured_wall_seconds), 0.01, 1.0);
  std::printf("warm encode per CPU second (wall rate / CPU share): %.2f MB/s\n",
              total_bytes / encode_seconds / 1e6 / share);
  std::printf("summary: encode %.2f MB/s (warm cache), decode %.0f tokens/s (streaming %.0f tokens/s), single thread\n",
              total_bytes / encode_seconds / 1e6, total_tokens / decode_seconds, total_tokens / stream_seconds);
  return 0;
}
