// `moestream trace info|csv FILE.mstrace`: shows a trace's header and counts, or exports its
// records as CSV (columns in docs/trace-format.md).
#include <cstdio>
#include <map>
#include <string>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "profiling/trace/trace_csv_export.h"
#include "profiling/trace/trace_reader.h"
#include "platform/file.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

using namespace moestream::trace;

int fail(const Status& status) {
  std::fprintf(stderr, "moestream trace: %s\n", status.to_string().c_str());
  return 1;
}

int trace_info(TraceReader& reader) {
  const TraceHeader& h = reader.header();
  uint64_t records = 0, hits = 0, misses = 0, prefetched = 0, chosen = 0, load_us = 0;
  std::map<uint32_t, int> sequences;
  TraceRecord r;
  while (true) {
    auto more = reader.next(&r);
    if (!more.ok()) return fail(more.status());
    if (!*more) break;
    ++records;
    sequences[r.sequence] = 1;
    for (const auto& c : r.chosen) {
      ++chosen;
      hits += c.outcome == ExpertOutcome::kHit;
      misses += c.outcome == ExpertOutcome::kMiss;
      prefetched += c.outcome == ExpertOutcome::kPrefetchHit ||
                    c.outcome == ExpertOutcome::kPrefetchLate;
      load_us += c.load_us;
    }
  }
  std::printf("file:            %s\n", reader.path().c_str());
  std::printf("model:           %s\n", h.model_name.empty() ? "(unnamed)" : h.model_name.c_str());
  std::printf("shape:           %u MoE layers (first is model layer %u) x %u experts, k = %u\n",
              h.num_moe_layers, h.first_moe_layer, h.experts_per_layer, h.top_k);
  std::printf("per record:      %u candidates, %u prefetcher guesses\n", h.num_candidates,
              h.num_pregate);
  std::printf("expert size:     %s\n",
              h.expert_bytes ? format_bytes(h.expert_bytes).c_str() : "unknown");
  std::printf("records:         %llu (token-layer steps) in %zu sequences\n",
              static_cast<unsigned long long>(records), sequences.size());
  std::printf("expert outcomes: %llu hit, %llu prefetched, %llu miss, %llu unknown; total wait %.3f s\n",
              static_cast<unsigned long long>(hits), static_cast<unsigned long long>(prefetched),
              static_cast<unsigned long long>(misses),
              static_cast<unsigned long long>(chosen - hits - prefetched - misses),
              static_cast<double>(load_us) * 1e-6);
  return 0;
}

int run_trace(int argc, char** argv) {
  ArgParser args("trace",
                 "Inspect an expert-routing trace (.mstrace, written by 'moestream profile'): "
                 "'info' prints its header and counts, 'csv' exports one CSV line per "
                 "(token, layer) record (columns in docs/trace-format.md).");
  std::string action, path, output;
  bool force = false;
  args.positional("ACTION", &action, "info or csv");
  args.positional("TRACE", &path, "the .mstrace file");
  args.option("--out", &output, "FILE", "csv: write here instead of stdout");
  args.option("--output", &output, "FILE", "the same as --out (older name)");
  args.flag("--force", &force, "replace --out if it exists");
  if (!args.parse(argc, argv)) return args.exit_code();
  if (action != "info" && action != "csv") {
    std::fprintf(stderr, "moestream trace: ACTION takes info or csv, not '%s'\n", action.c_str());
    return 2;
  }
  if (!output.empty()) {
    if (action != "csv") return usage_error("trace", "--out is for 'trace csv' only");
    if (Status s = check_output_path(output, "--out", OutputKind::kFile, force, {path}); !s.ok()) return fail(s);
  }
  auto reader = TraceReader::open(path);
  if (!reader.ok()) return fail(reader.status());
  if (action == "info") return trace_info(*reader);

  if (output.empty()) {
    Status s = export_trace_csv(*reader, [](std::string_view text) {
      if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size())
        return io_error("cannot write to stdout");
      return ok_status();
    });
    if (!s.ok()) return fail(s);
    return 0;
  }
  auto file = AtomicFileWriter::create(output);
  if (!file.ok()) return fail(file.status());
  Status s = export_trace_csv(*reader, [&](std::string_view text) {
    return file->write(text.data(), text.size());
  });
  if (s.ok()) s = file->commit();
  if (!s.ok()) return fail(s);
  std::fprintf(stderr, "trace: wrote %llu records to %s\n",
               static_cast<unsigned long long>(reader->records_read()), output.c_str());
  return 0;
}

MOESTREAM_REGISTER_COMMAND("trace", "inspect an expert-routing trace or export it as CSV",
                           run_trace);

}  // namespace
}  // namespace moestream::cli
