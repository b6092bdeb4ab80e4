// `moestream logits MODEL.mst --tokens "0 309 ..." --out F.f32 [--decode] [--mtp-out M.f32]`:
// runs the exact CPU forward pass and writes raw little-endian float32 [T, vocab], row t =
// the logits after reading tokens 0..t. With --mtp-out, also the MTP draft logits [T, vocab]:
// row t pairs token t+1 (for the last row the argmax of the main logits) with the main
// model's hidden state at t.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "engine_flags.h"
#include "runtime/engine/engine.h"
#include "runtime/model.h"
#include "kernel_flags.h"
#include "platform/clock.h"
#include "platform/file.h"

namespace moestream::cli {
namespace {

// Rows of float32 appended as they are computed, so no more than a chunk of logits is ever
// held. A regular file is written as PATH.partial and renamed when complete (a full disk or a
// signal leaves no half-written file); a device or FIFO (/dev/null, a pipe) is written in place.
class F32Sink {
 public:
  static Result<F32Sink> open(const std::string& path) {
    F32Sink sink;
    sink.path_ = path;
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
      sink.stream_ = std::fopen(path.c_str(), "wb");
      if (sink.stream_ == nullptr) return errno_status(errno, "cannot open " + path);
      return sink;
    }
    MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(path));
    sink.file_.emplace(std::move(file));
    return sink;
  }
  F32Sink() = default;
  F32Sink(F32Sink&& o) noexcept : path_(std::move(o.path_)), file_(std::move(o.file_)), stream_(o.stream_) { o.stream_ = nullptr; }
  F32Sink& operator=(F32Sink&&) = delete;
  ~F32Sink() {
    if (stream_ != nullptr) std::fclose(stream_);
  }

  Status append(const std::vector<float>& values) {
    if (file_) return file_->write(values.data(), values.size() * sizeof(float));
    if (std::fwrite(values.data(), sizeof(float), values.size(), stream_) != values.size()) {
      return errno_status(errno ? errno : EIO, "cannot write " + path_);
    }
    return ok_status();
  }
  Status commit() {
    if (file_) return file_->commit();
    std::FILE* f = stream_;
    stream_ = nullptr;
    if (std::fclose(f) != 0) return errno_status(errno, "cannot write " + path_);
    return ok_status();
  }

 private:
  std::string path_;
  std::optional<AtomicFileWriter> file_;
  std::FILE* stream_ = nullptr;
};

int32_t argmax(const float* row, int64_t n) {
  return static_cast<int32_t>(std::max_element(row, row + n) - row);
}

int run_logits(int argc, char** argv) {
  ArgParser args("logits", "Run the forward pass over a token list and write the logits of every "
                           "position as raw little-endian float32 [T, vocab].");
  std::string model_path, tokens_text, out_path, mtp_out, attention = "absorbed", kv = "f32";
  bool decode = false, force = false;
  args.positional("MODEL.mst", &model_path, "the model container");
  args.option("--tokens", &tokens_text, "\"0 309 ...\"", "token ids (BOS included if wanted)");
  args.option("--out", &out_path, "F.f32", "where to write the logits");
  args.require("--tokens");
  args.require("--out");
  args.flag("--decode", &decode, "feed one token per step through the KV cache (default: one prefill)");
  args.option("--mtp-out", &mtp_out, "M.f32", "also write the MTP draft logits [T, vocab]");
  args.option("--attention", &attention, "absorbed|expanded", "MLA form for prefill (default absorbed)");
  args.option("--kv-cache", &kv, "f32|bf16", "KV cache precision (default f32)");
  args.flag("--force", &force, "replace --out / --mtp-out if they exist");
  StreamingFlags streaming;
  streaming.add_to(args);
  KernelFlags kernel_flags;
  kernel_flags.add_to(args);
  if (!args.parse(argc, argv)) return args.exit_code();
  if (Status s = kernel_flags.apply(); !s.ok()) return usage_error("logits", s);
  if (Status s = streaming.validate(args); !s.ok()) return usage_error("logits", s);
  if (tokens_text.empty() || out_path.empty()) return usage_error("logits", "--tokens and --out are required");
  auto tokens = parse_token_list(tokens_text);
  if (!tokens || tokens->empty()) {
    std::fprintf(stderr, "moestream logits: --tokens must be a non-empty list of ids, got '%s'\n",
                 tokens_text.c_str());
    return 2;
  }
  if (attention != "absorbed" && attention != "expanded") {
    return usage_error("logits", "--attention takes absorbed or expanded, not '" + attention + "'");
  }
  auto precision = parse_kv_cache_precision(kv);
  if (!precision.ok()) return usage_error("logits", precision.status());
  if (Status s = check_output_path(out_path, "--out", OutputKind::kFile, force, {model_path}); !s.ok()) {
    return report_error(s);
  }
  if (!mtp_out.empty()) {
    if (Status s = check_output_path(mtp_out, "--mtp-out", OutputKind::kFile, force, {model_path}); !s.ok()) {
      return report_error(s);
    }
    if (std::filesystem::absolute(mtp_out) == std::filesystem::absolute(out_path)) {
      return usage_error("logits", "--out and --mtp-out name the same file");
    }
  }

  const Stopwatch watch;
  auto options = single_sequence_options(streaming, kernel_flags, *precision, static_cast<int64_t>(tokens->size()),
                                         0, /*all_logits=*/true);
  if (!options.ok()) return report_error(options.status());
  options->plan_mtp = !mtp_out.empty();
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  // The forward pass itself, on the engine's model between steps (no request runs).
  Status done = (*engine)->run_exclusive([&](Model& model) -> Status {
  model.set_attention_form(attention == "expanded" ? AttentionForm::kExpanded : AttentionForm::kAbsorbed);
  if (!mtp_out.empty() && model.mtp() == nullptr) {
    return not_found(model_path + " has no MTP module; drop --mtp-out");
  }
  const int64_t vocab = model.config().vocab_size;
  const int64_t count = static_cast<int64_t>(tokens->size());

  // Prefill in chunks of the plan's size (token by token with --decode): the logits of each
  // chunk are written before the next is computed.
  const int64_t chunk = decode ? 1 : options->prefill_chunk;
  MOESTREAM_ASSIGN_OR_RETURN(F32Sink out, F32Sink::open(out_path));
  std::optional<F32Sink> mtp;
  if (!mtp_out.empty()) {
    MOESTREAM_ASSIGN_OR_RETURN(F32Sink m, F32Sink::open(mtp_out));
    mtp.emplace(std::move(m));
  }
  KvCache cache = model.new_kv_cache(*precision);
  std::optional<KvCache> mtp_cache;
  if (mtp) mtp_cache.emplace(model.mtp()->new_kv_cache(*precision));
  std::vector<float> logits, final_hidden, draft;
  std::vector<int32_t> next;
  for (int64_t begin = 0; begin < count; begin += chunk) {
    const int64_t n = std::min(chunk, count - begin);
    Status s = model.forward(std::span<const int32_t>(tokens->data() + begin, n), cache,
                             {&logits, mtp ? &final_hidden : nullptr});
    if (!s.ok()) return s.with_context(decode ? "decode step " + std::to_string(begin) : "prefill");
    MOESTREAM_TRY(out.append(logits));
    if (!mtp) continue;
    // Row t pairs token t+1 with hidden t; the last row uses the main model's greedy token.
    next.clear();
    for (int64_t t = begin; t < begin + n; ++t) {
      next.push_back(t + 1 < count ? (*tokens)[t + 1] : argmax(logits.data() + (n - 1) * vocab, vocab));
    }
    s = model.mtp_forward(next, final_hidden.data(), *mtp_cache, &draft);
    if (!s.ok()) return s.with_context("mtp step " + std::to_string(begin));
    MOESTREAM_TRY(mtp->append(draft));
  }
  MOESTREAM_TRY(out.commit());
  if (mtp) MOESTREAM_TRY(mtp->commit());
  return ok_status();
  });
  if (!done.ok()) return report_error(done);
  const int64_t count = static_cast<int64_t>(tokens->size());
  const int64_t vocab = (*engine)->config().vocab_size;
  std::printf("wrote %lld x %lld logits to %s (%s, %s attention, %s KV cache%s) in %.2f s\n",
              static_cast<long long>(count), static_cast<long long>(vocab), out_path.c_str(),
              decode ? "token-by-token decode" : "prefill", attention.c_str(), kv.c_str(),
              mtp_out.empty() ? "" : ", MTP drafts too", watch.elapsed_seconds());
  const std::string report = (*engine)->cache_report();
  if (!report.empty()) std::fprintf(stderr, "%s", report.c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("logits", "write the logits of every position of a token list (exact CPU forward pass)",
                           run_logits);

}  // namespace
}  // namespace moestream::cli
