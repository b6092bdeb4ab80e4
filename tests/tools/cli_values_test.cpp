// Every flag's bad values, table-driven: each must be a usage error (exit code 2) whose message
// names the flag (docs/cli.md, "Exit codes"). Plus the global grammar: --version, `help CMD`,
// required options shown as required.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/cli_runner.h"
#include "support/temp_dir.h"

namespace {

using moestream::testing::CliResult;
using moestream::testing::run_cli;

struct BadValue {
  std::string args;  // {M} = a tiny model, {T} = tokenizer.json, {D} = a scratch directory
  std::string named;
};

std::string expand(std::string s, const std::string& model, const std::string& tokenizer, const std::string& dir) {
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"{M}", model}, {"{T}", tokenizer}, {"{D}", dir}}) {
    for (size_t at = s.find(key); at != std::string::npos; at = s.find(key)) s.replace(at, key.size(), value);
  }
  return s;
}

const std::vector<BadValue> kBadValues = {
    // run: generation, sampling, kernels
    {"run {M} --tokens 0 -n -1", "-n"},
    {"run {M} --tokens 0 -n 99999999999999999999", "-n"},
    {"run {M} --tokens 0 -n 9223372036854775807", "-n"},
    {"run {M} --tokens 0 -n 200000", "-n"},  // fits int64 but not the model's 163,840-token context
    {"run {M} --tokens 0 -n x", "-n"},
    {"run {M} --tokens 'a b'", "--tokens"},
    {"run {M}", "--tokens"},
    {"run {M} --tokens 0 --prompt hi", "--prompt"},
    {"run {M} --tokens 0 --temperature -1", "--temperature"},
    {"run {M} --tokens 0 --temperature nan", "--temperature"},
    {"run {M} --tokens 0 --top-k -1", "--top-k"},
    {"run {M} --tokens 0 --top-p 0", "--top-p"},
    {"run {M} --tokens 0 --top-p 1.5", "--top-p"},
    {"run {M} --tokens 0 --min-p 2", "--min-p"},
    {"run {M} --tokens 0 --repetition-penalty 0", "--repetition-penalty"},
    {"run {M} --tokens 0 --seed -1", "--seed"},
    {"run {M} --tokens 0 --threads -1", "--threads"},
    {"run {M} --tokens 0 --threads 5000", "--threads"},
    {"run {M} --tokens 0 --kv-cache f16", "--kv-cache"},
    {"run {M} --tokens 0 --no-such-flag", "--no-such-flag"},
    // streaming flags
    {"run {M} --tokens 0 --ram-budget 1e30", "--ram-budget"},
    {"run {M} --tokens 0 --ram-budget ''", "--ram-budget"},
    {"run {M} --tokens 0 --ram-budget abc", "--ram-budget"},
    {"run {M} --tokens 0 --ram-budget -1G", "--ram-budget"},
    {"run {M} --tokens 0 --ram-budget 0", "--ram-budget"},
    {"run {M} --tokens 0 --ram-budget 2X", "--ram-budget"},
    {"run {M} --tokens 0 --cache-policy lfu", "--cache-policy"},  // without --ram-budget
    {"run {M} --tokens 0 --io-backend pread", "--io-backend"},
    {"run {M} --tokens 0 --prefetch-margin 1", "--prefetch-margin"},
    {"run {M} --tokens 0 --prefetch-lookahead 2", "--prefetch-lookahead"},
    {"run {M} --tokens 0 --ram-budget 1G --io-backend foo", "--io-backend"},
    {"run {M} --tokens 0 --ram-budget 1G --cache-policy mru", "--cache-policy"},
    {"run {M} --tokens 0 --ram-budget 1G --prefetch-margin -5", "--prefetch-margin"},
    {"run {M} --tokens 0 --ram-budget 1G --prefetch-lookahead 0", "--prefetch-lookahead"},
    {"run {M} --tokens 0 --ram-budget 1G --prefetch-lookahead x", "--prefetch-lookahead"},
    {"run {M} --tokens 0 --ram-budget 1G --queue-depth 0", "--queue-depth"},
    {"run {M} --tokens 0 --ram-budget 1G --request-size 5000", "--request-size"},
    {"run {M} --tokens 0 --ram-budget 1G --verify-blobs maybe", "--verify-blobs"},
    {"run {M} --tokens 0 --ram-budget 1G --lfu-half-life 0", "--lfu-half-life"},
    {"run {M} --tokens 0 --ram-budget 1G --pin-profile ''", "--pin-profile"},
    // logits
    {"logits {M} --tokens 0", "--out"},
    {"logits {M} --out {D}/l.f32", "--tokens"},
    {"logits {M} --tokens 0 --out {D}/l.f32 --attention sideways", "--attention"},
    {"logits {M} --tokens 0 --out {D}/l.f32 --kv-cache f64", "--kv-cache"},
    {"logits {M} --tokens 0 --out {D}/l.f32 --queue-depth 4", "--queue-depth"},
    {"logits {M} --tokens 0 --out {D}/l.f32 --mtp-out {D}/l.f32", "--mtp-out"},
    // profile
    {"profile {M} --prompt-file {D}/p.txt", "--ram-budget"},
    {"profile {M} --ram-budget 1G", "--prompt-file"},
    {"profile {M} --prompt-file {D}/p.txt --ram-budget 1G -n -1", "-n"},
    {"profile {M} --prompt-file {D}/p.txt --ram-budget 1G --kv-cache x", "--kv-cache"},
    // tokenizer commands
    {"tokenize {T}", "--text"},
    {"detokenize {T}", "--tokens"},
    {"detokenize {T} --tokens x", "--tokens"},
    {"detokenize {T} --tokens -3", "--tokens"},
    {"template {T}", "--messages"},
    {"template {T} --messages {D}/m.json --template v4", "--template"},
    // container commands
    {"synth", "--out"},
    {"synth --out {D}/s.mst --experts 0", "--experts"},
    {"synth --out {D}/s.mst --experts -3", "--experts"},
    {"synth --out {D}/s.mst --layers 0", "--layers"},
    {"synth --out {D}/s.mst --preset huge", "--preset"},
    {"synth --out {D}/s.mst --format zip", "--format"},
    {"synth --out {D}/s.mst --compress lz4", "--compress"},
    {"synth --out {D}/s.mst --compress zstd:99", "--compress"},
    {"synth --out {D}/s.mst --seed -1", "--seed"},
    {"convert {D} {D}/o.mst --compress lz4", "--compress"},
    {"export-hf {M} {D}/hf --shard-size 0", "--shard-size"},
    {"export-hf {M} {D}/hf --shard-size abc", "--shard-size"},
    {"inspect {M} --measure-load -1", "--measure-load"},
    // benchmarks
    {"bench loader {M} --seconds 0", "--seconds"},
    {"bench loader {M} --seconds -1", "--seconds"},
    {"bench loader {M} --io-backend foo", "--io-backend"},
    {"bench loader {M} --queue-depth 0", "--queue-depth"},
    {"bench loader {M} --fio-pattern zigzag", "--fio-pattern"},
    {"bench loader {M} --request-size 5000 --no-fio", "--request-size"},
    {"bench loader {M} --throttle-mbps -5", "--throttle-mbps"},
    {"bench kernels --shapes nope", "--shapes"},
    {"bench kernels --seconds 0", "--seconds"},
    {"bench kernels --threads -1", "--threads"},
    {"bench kernels --repeat 0", "--repeat"},
    {"bench kernels --triad-mb 3", "--triad-mb"},
    // traces
    {"cachesim {D}/t.csv --sizes 0", "--sizes"},
    {"cachesim {D}/t.csv --train-fraction 1", "--train-fraction"},
    {"cachesim {D}/t.csv --lfu-half-life 0", "--lfu-half-life"},
    {"cachesim {D}/t.csv --pool sideways", "--pool"},
    {"cachesim {D}/t.csv --policies fifo", "--policies"},
    {"cachesim {D}/t.csv --prefetch psychic", "--prefetch"},
    {"cachesim {D}/t.csv --experts -1", "--experts"},
    {"trace dump {D}/t.mstrace", "ACTION"},
    {"trace info {D}/t.mstrace --out {D}/x.csv", "--out"},
};

TEST_CASE("every bad flag value is a usage error (exit 2) that names the flag") {
  moestream::testing::TempDir dir;
  const std::string model = dir.file("m.mst");
  const std::string tokenizer = std::string(MOESTREAM_SOURCE_DIR) + "/third_party/deepseek-v3-tokenizer/tokenizer.json";
  CliResult made = run_cli("synth --preset tiny --layers 2 --experts 8 --quiet --out " + model);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  std::ofstream(dir.file("p.txt")) << "0 1 2\n";
  std::ofstream(dir.file("m.json")) << R"([{"role": "user", "content": "hi"}])";
  std::ofstream(dir.file("t.csv")) << "Layer ID,Batch Number,Token,Activated Expert IDs\n0,0,0,\"[1, 2]\"\n";
  for (const BadValue& bad : kBadValues) {
    const std::string args = expand(bad.args, model, tokenizer, dir.path().string());
    CAPTURE(args);
    const CliResult r = run_cli(args);
    CHECK_MESSAGE(r.exit_code == 2, r.output);
    CHECK_MESSAGE(r.output.find(bad.named) != std::string::npos, r.output);
  }
}

TEST_CASE("moestream --version, help CMD and required options in help") {
  CliResult v = run_cli("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.output.rfind("moestream ", 0) == 0);
  for (const char* command : {"run", "logits", "synth", "template", "bench"}) {
    CAPTURE(command);
    const CliResult help = run_cli(std::string("help ") + command);
    const CliResult direct = run_cli(std::string(command) + " --help");
    CHECK(help.exit_code == 0);
    CHECK(help.output == direct.output);
  }
  CHECK(run_cli("help no-such-command").exit_code == 2);
  CHECK(run_cli("no-such-command").exit_code == 2);
  CHECK(run_cli("").exit_code == 2);
  const CliResult logits = run_cli("logits --help");
  CHECK(logits.output.find("usage: moestream logits MODEL.mst --tokens") != std::string::npos);
  CHECK(logits.output.find("(required)") != std::string::npos);
  const CliResult detok = run_cli("detokenize --help");
  CHECK(detok.output.find("--tokens IDS") != std::string::npos);
  CHECK(detok.output.find("(required)") != std::string::npos);
}

}  // namespace
