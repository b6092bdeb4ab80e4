// End-to-end tests of `moestream tokenize`, `detokenize` and `template` through the CLI
// binary, from a tokenizer.json file and from a synthetic .mst container.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "support/cli_runner.h"
#include "support/nested_json.h"
#include "support/temp_dir.h"

namespace {

using RunResult = moestream::testing::CliResult;

RunResult run(const std::string& args, bool with_stderr = true) {
  return moestream::testing::run_cli(args, with_stderr);
}

std::string tokenizer_json() {
  return std::string(MOESTREAM_SOURCE_DIR) + "/third_party/deepseek-v3-tokenizer/tokenizer.json";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST_CASE("moestream tokenize and detokenize with a tokenizer.json file") {
  moestream::testing::TempDir dir;
  write_file(dir.file("t.txt"), "héllo <｜User｜>世界 123456\n");
  RunResult r = run("tokenize " + tokenizer_json() + " --text-file " + dir.file("t.txt"), false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output == "61538 61547 223 128803 3427 223 6895 18009 201\n");

  r = run("tokenize " + tokenizer_json() + " --text-file " + dir.file("t.txt") + " --json", false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("\"ids\":[61538,61547,223,128803,3427,223,6895,18009,201]") != std::string::npos);
  CHECK(r.output.find("\"<｜User｜>\"") != std::string::npos);

  r = run("detokenize " + tokenizer_json() + " --tokens \"0 61538 61547 223 128803 3427\"", false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output == "<｜begin▁of▁sentence｜>héllo <｜User｜>世界\n");
  r = run("detokenize " + tokenizer_json() + " --skip-special --tokens 0,61538,61547,1", false);
  CHECK(r.output == "héllo\n");
}

TEST_CASE("moestream tokenize/detokenize/template read the tokenizer embedded in a .mst") {
  moestream::testing::TempDir dir;
  const std::string mst = dir.file("tiny.mst");
  RunResult r = run("synth --preset tiny --quiet --out " + mst);
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  // tiny has 2,048 token ids: its tokenizer is the built-in one cut to fit (format/embedded_tokenizer.h).
  r = run("tokenize " + mst + " --text \"héllo <｜User｜>世界 123456\"", false);
  REQUIRE(r.exit_code == 0);
  std::string ids = r.output.substr(0, r.output.size() - 1);
  {
    std::istringstream in(ids);
    int id = 0, count = 0;
    while (in >> id) {
      CHECK(id < 2048);
      ++count;
    }
    CHECK(count > 8);  // fewer merges, more pieces than the full tokenizer's 8
  }
  r = run("detokenize " + mst + " --tokens \"" + ids + "\"", false);
  CHECK(r.output == "héllo <｜User｜>世界 123456\n");

  write_file(dir.file("chat.json"), R"([{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "1+1=?"}])");
  r = run("template " + mst + " --messages " + dir.file("chat.json"), false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output == "<｜begin▁of▁sentence｜>Be brief.<｜User｜>1+1=?<｜Assistant｜></think>\n");
  r = run("template " + mst + " --messages " + dir.file("chat.json") + " --thinking", false);
  CHECK(r.output == "<｜begin▁of▁sentence｜>Be brief.<｜User｜>1+1=?<｜Assistant｜><think>\n");
  r = run("template " + mst + " --messages " + dir.file("chat.json") + " --thinking --ids", false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.size() > 15);
  CHECK(r.output.substr(0, 2) == "0 ");
  {
    std::istringstream in(r.output);
    int id = 0;
    while (in >> id) CHECK(id < 2048);
  }
  r = run("template " + mst + " --messages " + dir.file("chat.json") + " --template v3", false);
  CHECK(r.output == "<｜begin▁of▁sentence｜>Be brief.<｜User｜>1+1=?<｜Assistant｜>\n");

  // A chat request object with tools.
  write_file(dir.file("request.json"), R"({"messages": [{"role": "user", "content": "Time?"}],
      "tools": [{"type": "function", "function": {"name": "now", "description": "Current time",
                 "parameters": {"type": "object", "properties": {}}}}]})");
  r = run("template " + mst + " --messages " + dir.file("request.json"), false);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("### now\nDescription: Current time\n\nParameters: {\"type\": \"object\", \"properties\": {}}\n") !=
        std::string::npos);
  CHECK(r.output.find("<｜User｜>Time?<｜Assistant｜></think>\n") != std::string::npos);
}

TEST_CASE("tokenizer commands report bad input with a message") {
  moestream::testing::TempDir dir;
  RunResult r = run("tokenize " + dir.file("missing.mst") + " --text hi");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("error:") != std::string::npos);
  r = run("tokenize " + tokenizer_json());
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--text-file") != std::string::npos);
  r = run("detokenize " + tokenizer_json() + " --tokens \"1 x 2\"");
  CHECK(r.exit_code == 2);
  r = run("detokenize " + tokenizer_json() + " --tokens 200000");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("not in the vocabulary") != std::string::npos);
  write_file(dir.file("bad.json"), R"([{"role": "robot", "content": "x"}])");
  r = run("template " + tokenizer_json() + " --messages " + dir.file("bad.json"));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("messages[0]") != std::string::npos);
}

TEST_CASE("template --messages / --tools nested 100,000 levels deep is an error, not a crash") {
  moestream::testing::TempDir dir;
  write_file(dir.file("deep_arrays.json"), moestream::testing::nested_arrays(100000));
  write_file(dir.file("deep_objects.json"), "{\"messages\": " + moestream::testing::nested_objects(100000) + "}");
  write_file(dir.file("ok.json"), R"([{"role": "user", "content": "hi"}])");
  for (const std::string deep : {"deep_arrays.json", "deep_objects.json"}) {
    CAPTURE(deep);
    RunResult r = run("template " + tokenizer_json() + " --messages " + dir.file(deep));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("--messages file " + dir.file(deep) + " nests deeper than 128 levels") != std::string::npos);
    r = run("template " + tokenizer_json() + " --messages " + dir.file("ok.json") + " --tools " + dir.file(deep));
    CHECK(r.exit_code == 1);
    CHECK(r.output.find("--tools file " + dir.file(deep) + " nests deeper than 128 levels") != std::string::npos);
  }
}

}  // namespace
