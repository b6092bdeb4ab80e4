// Helpers shared by the container subcommands (convert, inspect, verify, export-hf, synth).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/container_writer.h"
#include "platform/status.h"

namespace moestream::cli {

// Prints "error: <message>" to stderr and returns the exit code for it (1).
int report_error(const Status& status);
// A bad command line found after parsing (a flag's value out of range, a missing option):
// prints "moestream CMD: <message>" and the --help hint, returns 2.
int usage_error(const std::string& command, const Status& status);
int usage_error(const std::string& command, const std::string& message);
// Parses "zstd", "zstd:LEVEL" or "none" for --compress.
Result<ContainerWriterOptions> parse_compression(const std::string& text);
// The command line as one string (for provenance).
std::string join_command_line(int argc, char** argv);

// The most tokens a command generates (-n); larger values are usage errors, never overflows.
inline constexpr int64_t kMaxGenerateTokens = int64_t{1} << 24;

// A text prompt from `--prompt TEXT` (TEXT "-" reads stdin) or, when from_file, from
// `--prompt-file FILE` (FILE "-" reads stdin). The same rules for every command that takes one.
Result<std::string> read_prompt_argument(const std::string& prompt, const std::string& prompt_file, bool from_file);

// An InvalidArgument naming -n when a prompt of `prompt_tokens` plus `generate` new tokens
// does not fit the context of the model at `model_path` (max_position_embeddings).
Status check_context_fits(const std::string& model_path, int64_t prompt_tokens, int64_t generate);

enum class OutputKind { kFile, kDirectory };

// Checked before any work starts, so a bad output path fails in a second instead of after an
// hour (docs/cli.md, "Outputs"). `what` names it in messages ("OUT", "--csv"). Refuses:
// an output that is one of `inputs` or lies inside an input directory (even with --force);
// an existing output without `force` (an empty directory counts as absent); a file where a
// directory is wanted or the reverse; a parent directory that does not exist or is not
// writable. Errors are runtime errors (exit code 1).
Status check_output_path(const std::string& path, const std::string& what, OutputKind kind, bool force,
                         const std::vector<std::string>& inputs = {});

}  // namespace moestream::cli
