// End-to-end: `moestream convert`, then `moestream logits` (prefill and --decode, with MTP)
// against the golden logits, and `moestream run` determinism.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../runtime/support/golden_data.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

namespace {

std::string cli() { return MOESTREAM_CLI_PATH; }

// Streams instead of operator+ chains: GCC 12 -O3 reports a false -Wrestrict on those.
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

int run_command(const std::string& command) { return std::system(cat(command, " >/dev/null 2>&1").c_str()); }

std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = popen(cat(command, " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 256> buffer;
  while (fgets(buffer.data(), buffer.size(), pipe)) out += buffer.data();
  pclose(pipe);
  return out;
}

std::vector<float> read_f32(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<float> v(static_cast<size_t>(in.tellg()) / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

std::string join(const std::vector<int32_t>& tokens) {
  std::ostringstream s;
  for (size_t i = 0; i < tokens.size(); ++i) s << (i ? " " : "") << tokens[i];
  return s.str();
}

}  // namespace

TEST_CASE("moestream logits writes the golden logits and MTP drafts, prefill and --decode") {
  TempDir dir;
  const std::string model = dir.file("bf16.mst");
  REQUIRE(run_command(cat(cli(), " convert ", golden_dir(), "/bf16 ", model)) == 0);
  const auto prompts = golden_prompts();
  const std::string tokens = join(prompts[2]);
  for (const std::string mode : {"", " --decode", " --attention expanded"}) {
    CAPTURE(mode);
    const std::string out = dir.file("l.f32"), mtp = dir.file("m.f32");
    REQUIRE(run_command(cat(cli(), " logits ", model, " --tokens \"", tokens, "\" --out ", out,
                            " --mtp-out ", mtp, mode, " --force")) == 0);
    const NpyArray ref = read_npy_f32(cat(golden_dir(), "/ref/bf16/logits_p2.npy"));
    const NpyArray ref_mtp = read_npy_f32(cat(golden_dir(), "/ref/bf16/mtp_logits_numpy_f64_p2.npy"));
    CHECK(max_abs_diff(read_f32(out), ref.values) <= 1e-4);
    CHECK(max_abs_diff(read_f32(mtp), ref_mtp.values) <= 1e-4);
  }
  const std::string bf16_kv = dir.file("kv.f32");
  REQUIRE(run_command(cat(cli(), " logits ", model, " --tokens \"", tokens, "\" --decode --kv-cache bf16 --out ", bf16_kv)) == 0);
  CHECK(max_abs_diff(read_f32(bf16_kv), read_npy_f32(cat(golden_dir(), "/ref/bf16/logits_p2.npy")).values) < 0.1);
  CHECK(run_command(cat(cli(), " logits ", model, " --tokens \"0 99999\" --out ", dir.file("x.f32"))) != 0);
  CHECK(run_command(cat(cli(), " logits ", model, " --out ", dir.file("x.f32"))) != 0);
}

TEST_CASE("moestream run: greedy continues the prompt, a seed makes sampling repeatable") {
  TempDir dir;
  const std::string model = dir.file("v3.mst");
  REQUIRE(run_command(cat(cli(), " convert ", golden_dir(), "/fp8-v3 ", model)) == 0);
  // Greedy after prompt 1 starts with the reference argmax of its last row (2006).
  const std::string greedy = capture(cat(cli(), " run ", model, " --tokens \"0 309 1702 1338 740 183 1439\" -n 4"));
  CHECK(greedy.rfind("2006 ", 0) == 0);
  const std::string sampling = cat(" run ", model, " --tokens \"0 309\" -n 12 --temperature 0.9 --top-k 50 --top-p 0.95 --min-p 0.01 --repetition-penalty 1.1 --seed ");
  const std::string a = capture(cat(cli(), sampling, "5"));
  const std::string b = capture(cat(cli(), sampling, "5"));
  const std::string c = capture(cat(cli(), sampling, "6"));
  CHECK(!a.empty());
  CHECK(a == b);
  CHECK(a != c);
  CHECK(run_command(cat(cli(), " run ", model, " --tokens \"0\" --top-p 0")) != 0);
  const std::string with_text = capture(cat(cli(), " run ", model, " --tokens \"0 309\" -n 3 --text"));
  const std::string ids_only = capture(cat(cli(), " run ", model, " --tokens \"0 309\" -n 3"));
  CHECK(with_text.size() > ids_only.size());
  CHECK(with_text.rfind(ids_only, 0) == 0);  // the ids line, then the text
}

TEST_CASE("long prompts: logits of 700 positions written chunk by chunk equal decode, run --tokens-file, plan") {
  TempDir dir;
  const std::string model = dir.file("v3.mst");
  REQUIRE(run_command(cat(cli(), " convert ", golden_dir(), "/fp8-v3 ", model)) == 0);
  std::vector<int32_t> ids;
  for (int i = 0; i < 700; ++i) ids.push_back((i * 37 + 11) % 2000);
  const std::string tokens = join(ids);
  // 700 positions = 3 chunks of up to 256 (prefill) against one token per step (decode).
  const std::string prefill = dir.file("p.f32"), decode = dir.file("d.f32"), mtp = dir.file("m.f32"), mtp_decode = dir.file("md.f32");
  REQUIRE(run_command(cat(cli(), " logits ", model, " --tokens \"", tokens, "\" --out ", prefill, " --mtp-out ", mtp)) == 0);
  REQUIRE(run_command(cat(cli(), " logits ", model, " --tokens \"", tokens, "\" --decode --out ", decode, " --mtp-out ", mtp_decode)) == 0);
  const std::vector<float> a = read_f32(prefill), b = read_f32(decode);
  CHECK(a.size() == size_t{700} * 2048);
  CHECK(a.size() == b.size());
  CHECK(max_abs_diff(a, b) <= 1e-4);
  CHECK(read_f32(mtp).size() == a.size());
  CHECK(max_abs_diff(read_f32(mtp), read_f32(mtp_decode)) <= 1e-4);

  // run reads the ids from a file; greedy is the same as with --tokens.
  const std::string file = dir.file("ids.txt");
  { std::ofstream(file) << tokens << "\n"; }
  const std::string from_file = capture(cat(cli(), " run ", model, " --tokens-file ", file, " -n 4"));
  const std::string inline_ids = capture(cat(cli(), " run ", model, " --tokens \"", tokens, "\" -n 4"));
  CHECK(!from_file.empty());
  CHECK(from_file == inline_ids);
  CHECK(run_command(cat(cli(), " run ", model, " --tokens-file ", dir.file("missing.txt"))) != 0);
  CHECK(run_command(cat(cli(), " run ", model, " --tokens-file ", file, " --tokens \"0\"")) != 0);

  // plan: the KV for the context and a scratch that does not grow with it.
  const std::string short_plan = capture(cat(cli(), " plan ", model, " --context 1000"));
  const std::string long_plan = capture(cat(cli(), " plan ", model, " --context 4000"));
  CHECK(short_plan.find("KV cache (f32): 1 sequence(s) x 1000 tokens") != std::string::npos);
  CHECK(long_plan.find("x 4000 tokens") != std::string::npos);
  auto scratch_line = [](const std::string& text) { return text.substr(text.find("forward scratch:"), 40); };
  CHECK(scratch_line(short_plan) == scratch_line(long_plan));
  const std::string budget_plan = capture(cat(cli(), " plan ", model, " --context 2000 --ram-budget 1G"));
  CHECK(budget_plan.find("longest context under 1G: ") != std::string::npos);
  CHECK(run_command(cat(cli(), " plan ", model, " --context 2000 --ram-budget 1M")) != 0);
  CHECK(run_command(cat(cli(), " plan ", model, " --context 99999999")) != 0);
}
