// `moestream synth --preset tiny|mini|small|full --out FILE`: a random-weight DeepSeek-V3 model.
#include <cstdio>
#include <filesystem>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "interop/hf_exporter.h"
#include "format/synthetic_model.h"
#include "platform/memory_probe.h"
#include "platform/progress_bar.h"
#include "platform/signal_cleanup.h"

namespace moestream::cli {
namespace {

int run_synth(int argc, char** argv) {
  std::string preset = "tiny", out, format = "mst", compress;
  int64_t layers = -1, experts = -1, seed = 1;
  bool ue8m0 = false, quiet = false, force = false;
  ArgParser args("synth",
                 "Write a random-weight model with the exact DeepSeek-V3 tensor set and shapes "
                 "(FP8 128x128 block-scaled linears, grouped router with bias, MTP layer). "
                 "tiny = golden config A; small = real 129,280-token vocabulary, 64 experts, "
                 "6 layers (~0.4 GB); full = the 671B widths (hidden 7168, 256 experts). "
                 "Streams: memory stays bounded at any size.");
  args.option("--preset", &preset, "tiny|mini|small|full",
              "model size (default tiny; mini: the real vocabulary at the smallest shapes, for chat tests)");
  args.option("--out", &out, "FILE", "output .mst file (or directory with --format hf)");
  args.require("--out");
  args.option("--layers", &layers, "N", "main decoder layers (the MTP layer comes on top)");
  args.option("--experts", &experts, "N", "routed experts per MoE layer");
  args.option("--format", &format, "mst|hf", "write a .mst container (default) or a HF checkpoint");
  args.option("--compress", &compress, "none|zstd[:LEVEL]", "zstd-compress expert blobs");
  args.option("--seed", &seed, "N", "random seed (default 1)");
  args.flag("--ue8m0", &ue8m0, "V3.1-style power-of-two scales (scale_fmt ue8m0)");
  args.flag("--quiet", &quiet, "no progress bar");
  args.flag("--force", &force, "replace --out if it exists");
  if (!args.parse(argc, argv)) return args.exit_code();
  if (out.empty()) return usage_error("synth", "--out FILE is required");
  if (preset != "tiny" && preset != "mini" && preset != "small" && preset != "full") {
    return usage_error("synth", "--preset takes tiny, mini, small or full, not '" + preset + "'");
  }
  if (format != "mst" && format != "hf") return usage_error("synth", "--format takes mst or hf, not '" + format + "'");
  if (layers != -1 && (layers < 1 || layers > 1024)) {
    return usage_error("synth", "--layers takes 1 to 1024, not " + std::to_string(layers));
  }
  if (experts != -1 && (experts < 1 || experts > 4096)) {
    return usage_error("synth", "--experts takes 1 to 4096, not " + std::to_string(experts));
  }
  if (seed < 0) return usage_error("synth", "--seed takes 0 or more, not " + std::to_string(seed));
  auto writer_options = parse_compression(compress);
  if (!writer_options.ok()) return usage_error("synth", writer_options.status());
  if (Status s = check_output_path(out, "--out", format == "hf" ? OutputKind::kDirectory : OutputKind::kFile, force);
      !s.ok()) {
    return report_error(s);
  }
  SynthOptions options;
  options.preset = preset;
  options.layers = layers;
  options.experts = experts;
  options.ue8m0 = ue8m0;
  options.seed = static_cast<uint64_t>(seed);
  options.writer = *writer_options;
  options.progress = !quiet;
  options.command_line = join_command_line(argc, argv);

  std::string mst_path = out;
  if (format == "hf") {  // synthesize a container next to the output, then export it
    std::error_code ec;
    std::filesystem::create_directories(out, ec);
    if (ec) return report_error(io_error("cannot create " + out + ": " + ec.message()));
    mst_path = out + "/.synth-tmp.mst";
  }
  RemoveOnSignal remove_tmp;
  if (format == "hf") remove_tmp = RemoveOnSignal(mst_path);  // the .partial is the writer's
  auto summary = synthesize_container(options, mst_path);
  if (!summary.ok()) return report_error(summary.status());
  if (format == "hf") {
    auto reader = ContainerReader::open(mst_path);
    Status s = reader.ok() ? Status() : reader.status();
    if (s.ok()) {
      ExportOptions export_options;
      export_options.progress = !quiet;
      auto exported = export_hf_checkpoint(**reader, out, export_options);
      if (!exported.ok()) s = exported.status();
    }
    std::filesystem::remove(mst_path);
    if (!s.ok()) return report_error(s);
  }
  const ModelConfig& c = summary->config;
  std::printf("synth %s -> %s: %lld layers + %lld MTP, %lld experts x %lld MoE layers, hidden %lld, "
              "vocab %lld, %s in %.1f s, peak RSS %s\n",
              preset.c_str(), out.c_str(), static_cast<long long>(c.num_hidden_layers),
              static_cast<long long>(c.num_nextn_predict_layers), static_cast<long long>(c.n_routed_experts),
              static_cast<long long>(summary->stats.experts / std::max<int64_t>(1, c.n_routed_experts)),
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.vocab_size),
              format_bytes(summary->stats.file_size).c_str(), summary->seconds,
              format_bytes(peak_rss_bytes()).c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("synth", "write a random-weight DeepSeek-V3-shaped model (tiny/mini/small/full)",
                           run_synth);

}  // namespace
}  // namespace moestream::cli
