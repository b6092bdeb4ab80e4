// `moestream logits MODEL.mst --tokens "0 309 ..." --out F.f32 [--decode] [--mtp-out M.f32]`:
// runs the exact CPU forward pass and writes raw little-endian float32 [T, vocab], row t =
// the logits after reading tokens 0..t. With --mtp-out, also the MTP draft logits [T, vocab]:
// row t pairs token t+1 (for the last row the argmax of the main logits) with the main
// model's hidden state at t.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
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

// PATH.partial, renamed when complete: a full disk or a signal leaves no half-written file.
// A device or FIFO (/dev/null, a pipe) is written in place.
Status write_f32(const std::string& path, const std::vector<float>& values) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return errno_status(errno, "cannot open " + path);
    const size_t n = std::fwrite(values.data(), sizeof(float), values.size(), f);
    const int err = errno;
    if (std::fclose(f) != 0 || n != values.size()) return errno_status(err ? err : EIO, "cannot write " + path);
    return ok_status();
  }
  MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter file, AtomicFileWriter::create(path));
  MOESTREAM_TRY(file.write(values.data(), values.size() * sizeof(float)));
  return file.commit();
}

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
  auto engine = Engine::open(model_path, *options);
  if (!engine.ok()) return report_error(engine.status());
  // The forward pass itself, on the engine's model between steps (no request runs).
  Status done = (*engine)->run_exclusive([&](Model& model) -> Status {
  model.set_attention_form(attention == "expanded" ? AttentionForm::kExpanded : AttentionForm::kAbsorbed);
  if (!mtp_out.empty() && model.mtp() == nullptr) {
    return not_found(model_path + " has no MTP module; drop --mtp-out");
  }
  const int64_t vocab = model.config().vocab_size;
  const int64_t hidden = model.config().hidden_size;
  const int64_t count = static_cast<int64_t>(tokens->size());

  KvCache cache = model.new_kv_cache(*precision);
  std::vector<float> logits, final_hidden;
  if (decode) {
    std::vector<float> step_logits, step_hidden;
    for (int64_t t = 0; t < count; ++t) {
      Status s = model.forward(std::span<const int32_t>(tokens->data() + t, 1), cache,
                               {&step_logits, &step_hidden});
      if (!s.ok()) return s.with_context("decode step " + std::to_string(t));
      logits.insert(logits.end(), step_logits.begin(), step_logits.end());
      final_hidden.insert(final_hidden.end(), step_hidden.begin(), step_hidden.end());
    }
  } else {
    Status s = model.forward(*tokens, cache, {&logits, &final_hidden});
    if (!s.ok()) return s.with_context("prefill");
  }
  Status written = write_f32(out_path, logits);
  if (!written.ok()) return written;

  if (!mtp_out.empty()) {
    // Row t pairs token t+1 with hidden t; the last row uses the main model's greedy token.
    std::vector<int32_t> next(tokens->begin() + 1, tokens->end());
    next.push_back(argmax(logits.data() + (count - 1) * vocab, vocab));
    KvCache mtp_cache = model.mtp()->new_kv_cache(*precision);
    std::vector<float> draft;
    if (decode) {
      std::vector<float> step;
      for (int64_t t = 0; t < count; ++t) {
        Status s = model.mtp_forward(std::span<const int32_t>(&next[t], 1),
                                     final_hidden.data() + t * hidden, mtp_cache, &step);
        if (!s.ok()) return s.with_context("mtp step " + std::to_string(t));
        draft.insert(draft.end(), step.begin(), step.end());
      }
    } else {
      Status s = model.mtp_forward(next, final_hidden.data(), mtp_cache, &draft);
      if (!s.ok()) return s;
    }
    written = write_f32(mtp_out, draft);
    if (!written.ok()) return written;
  }
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
