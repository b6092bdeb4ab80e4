// `moestream export-hf FILE.mst OUT_DIR`: back to a Hugging Face checkpoint (SGLang / vLLM).
#include <cstdio>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "interop/hf_exporter.h"
#include "platform/memory_probe.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

int run_export_hf(int argc, char** argv) {
  std::string file, out_dir, shard_size;
  bool quiet = false, force = false;
  ArgParser args("export-hf",
                 "Write a .mst container back out as a Hugging Face checkpoint (config.json, "
                 "sharded safetensors with weight_scale_inv, index, tokenizer), every tensor "
                 "byte-identical to the converted source.");
  args.positional("FILE", &file, ".mst container");
  args.positional("OUT_DIR", &out_dir, "output directory (created; an existing non-empty one needs --force)");
  args.option("--shard-size", &shard_size, "BYTES",
              "shard size when the source sharding is unknown (default 5G)");
  args.flag("--quiet", &quiet, "no progress bar");
  args.flag("--force", &force, "write into OUT_DIR even if it holds files (same-named files are replaced)");
  if (!args.parse(argc, argv)) return args.exit_code();
  ExportOptions options;
  options.progress = !quiet;
  if (!shard_size.empty()) {
    auto bytes = parse_byte_size(shard_size);
    if (!bytes || *bytes < (uint64_t{1} << 20)) {
      return usage_error("export-hf", invalid_argument("--shard-size takes a size of at least 1MiB (e.g. 512M, 5G), not '" +
                                                       shard_size + "'"));
    }
    options.max_shard_bytes = *bytes;
  }
  if (Status s = check_output_path(out_dir, "OUT_DIR", OutputKind::kDirectory, force, {file}); !s.ok()) {
    return report_error(s);
  }
  auto reader = ContainerReader::open(file);
  if (!reader.ok()) return report_error(reader.status());
  auto summary = export_hf_checkpoint(**reader, out_dir, options);
  if (!summary.ok()) return report_error(summary.status());
  std::printf("exported %s -> %s: %llu tensors in %llu shards, %s in %.1f s, peak RSS %s\n", file.c_str(),
              out_dir.c_str(), static_cast<unsigned long long>(summary->tensors),
              static_cast<unsigned long long>(summary->shards), format_bytes(summary->bytes).c_str(),
              summary->seconds, format_bytes(peak_rss_bytes()).c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("export-hf", "write a .mst container back out as a Hugging Face checkpoint",
                           run_export_hf);

}  // namespace
}  // namespace moestream::cli
