// `moestream convert HF_DIR OUT.mst`: Hugging Face checkpoint -> .mst container.
#include <cstdio>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "interop/hf_converter.h"
#include "platform/memory_probe.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

int run_convert(int argc, char** argv) {
  std::string hf_dir, out, compress;
  bool quiet = false, force = false;
  ArgParser args("convert",
                 "Convert a Hugging Face DeepSeek-V3 / V3.1 checkpoint (config.json, sharded "
                 "safetensors; FP8, UE8M0 or BF16) into one .mst container. Writes OUT.partial "
                 "and renames it when complete.");
  args.positional("HF_DIR", &hf_dir, "checkpoint directory");
  args.positional("OUT", &out, "output .mst file");
  args.option("--compress", &compress, "none|zstd[:LEVEL]",
              "zstd-compress each expert blob (pays only on slow storage; default none)");
  args.flag("--quiet", &quiet, "no progress bar");
  args.flag("--force", &force, "replace OUT if it exists (never a file of HF_DIR)");
  if (!args.parse(argc, argv)) return args.exit_code();
  auto writer_options = parse_compression(compress);
  if (!writer_options.ok()) return usage_error("convert", writer_options.status());
  if (Status s = check_output_path(out, "OUT", OutputKind::kFile, force, {hf_dir}); !s.ok()) return report_error(s);
  ConvertOptions options;
  options.writer = *writer_options;
  options.progress = !quiet;
  options.command_line = join_command_line(argc, argv);
  auto summary = convert_hf_checkpoint(hf_dir, out, options);
  if (!summary.ok()) return report_error(summary.status());
  const auto& s = summary->stats;
  std::string compression;
  if (options.writer.compression == BlobCompression::kZstd && s.expert_raw_bytes) {
    char buf[96];
    std::snprintf(buf, sizeof buf, ", experts %s -> %s (%.1f%% smaller)",
                  format_bytes(s.expert_raw_bytes).c_str(), format_bytes(s.expert_stored_bytes).c_str(),
                  100.0 * (1.0 - static_cast<double>(s.expert_stored_bytes) / static_cast<double>(s.expert_raw_bytes)));
    compression = buf;
  }
  std::printf("converted %s -> %s: %llu tensors, %llu experts, %s in %.1f s (%s/s)%s, peak RSS %s%s\n",
              hf_dir.c_str(), out.c_str(), static_cast<unsigned long long>(s.tensors),
              static_cast<unsigned long long>(s.experts), format_bytes(s.file_size).c_str(), summary->seconds,
              format_bytes(static_cast<uint64_t>(static_cast<double>(summary->source_bytes) /
                                                 std::max(summary->seconds, 1e-9))).c_str(),
              compression.c_str(), format_bytes(peak_rss_bytes()).c_str(),
              summary->embedded_tokenizer ? " (built-in tokenizer embedded)" : "");
  return 0;
}

MOESTREAM_REGISTER_COMMAND("convert", "convert a Hugging Face checkpoint into a .mst container",
                           run_convert);

}  // namespace
}  // namespace moestream::cli
