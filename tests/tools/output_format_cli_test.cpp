// --json and --json-schema on the command line: `run` answers parse (and validate), `batch`
// applies the flag to requests without a response_format, `bench grammar` reports mask times,
// and a schema outside the subset or an unreadable file is a usage error naming the cause.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "support/cli_runner.h"
#include "support/mini_model.h"
#include "support/temp_dir.h"

using namespace moestream::testing;
using json = nlohmann::json;

namespace {
std::string cli() { return MOESTREAM_CLI_PATH; }

// `run --text` prints the ids on one line, then the text (which may span lines).
std::string text_after_ids(const std::string& output) {
  const size_t a = output.find('\n');
  return a == std::string::npos ? "" : output.substr(a + 1);
}
}  // namespace

TEST_CASE("run --json / --json-schema: the answer is JSON (valid against the schema), bad schemas are usage errors") {
  TempDir dir;
  const std::string model = synth_mini_model(dir);
  const std::string schema = dir.file("person.json");
  std::ofstream(schema) << R"({"type":"object","properties":{"name":{"type":"string","maxLength":10},
      "age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false})";
  for (int seed = 0; seed < 3; ++seed) {
    std::ostringstream command;
    command << " run " << model << " --prompt 'A person:' -n 60 --temperature 1 --text --seed " << seed;
    const std::string args = command.str();
    const CliResult obj = run_shell(cli() + args + " --json", /*merge_stderr=*/false);
    REQUIRE_MESSAGE(obj.exit_code == 0, obj.output);
    CHECK_MESSAGE(json::parse(text_after_ids(obj.output), nullptr, false).is_object(), obj.output);
    const CliResult person = run_shell(cli() + args + " --json-schema " + schema, /*merge_stderr=*/false);
    REQUIRE_MESSAGE(person.exit_code == 0, person.output);
    const json p = json::parse(text_after_ids(person.output), nullptr, false);
    REQUIRE_MESSAGE(p.is_object(), person.output);
    CHECK(p.size() == 2);
    CHECK(p["name"].is_string());
    CHECK((p["age"].is_number_integer() && p["age"].get<int>() >= 0 && p["age"].get<int>() <= 120));
  }
  const std::string bad = dir.file("bad.json");
  std::ofstream(bad) << R"({"type":"object","properties":{"n":{"type":"number","multipleOf":5}}})";
  const CliResult refused = run_shell(cli() + " run " + model + " --prompt x --json-schema " + bad);
  CHECK(refused.exit_code == 2);
  CHECK(refused.output.find("unsupported keyword 'multipleOf' at #/properties/n") != std::string::npos);
  const CliResult missing = run_shell(cli() + " run " + model + " --prompt x --json-schema " + dir.file("none.json"));
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("cannot read") != std::string::npos);
}

TEST_CASE("batch --json constrains requests that set no response_format, bench grammar reports mask times") {
  TempDir dir;
  const std::string model = synth_mini_model(dir);
  const std::string in = dir.file("in.jsonl"), out = dir.file("out.jsonl");
  {
    std::ofstream f(in);
    for (int i = 0; i < 4; ++i) {
      std::ostringstream id;
      id << "r" << i;
      f << json{{"custom_id", id.str()}, {"method", "POST"}, {"url", "/v1/chat/completions"},
                {"body", {{"model", "deepseek-chat"}, {"max_tokens", 48}, {"temperature", 1}, {"seed", i},
                          {"messages", {{{"role", "user"}, {"content", "JSON please"}}}}}}}
               .dump()
        << '\n';
    }
  }
  const CliResult r = run_shell(cli() + " batch " + model + " --input " + in + " --output " + out + " --json --quiet");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  std::ifstream results(out);
  std::string line;
  int lines = 0;
  while (std::getline(results, line)) {
    const json j = json::parse(line);
    const std::string content = j["response"]["body"]["choices"][0]["message"]["content"].get<std::string>();
    CHECK_MESSAGE(json::parse(content, nullptr, false).is_object(), content);
    ++lines;
  }
  CHECK(lines == 4);

  const CliResult bench = run_shell(cli() + " bench grammar --generations 3 --max-tokens 40");
  REQUIRE_MESSAGE(bench.exit_code == 0, bench.output);
  CHECK(bench.output.find("json_object") != std::string::npos);
  CHECK(bench.output.find("20-property schema") != std::string::npos);
  CHECK(bench.output.find("median") != std::string::npos);
}
