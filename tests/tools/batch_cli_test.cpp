// `moestream batch` end to end on the mini model (real tokenizer): results for good lines,
// error results for bad ones, resumable, refuses to overwrite, prefix-cache hits reported.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/temp_dir.h"

using namespace moestream::testing;
using json = nlohmann::json;

namespace {

std::string request(const std::string& id, const std::string& user, int max_tokens, const std::string& extra = "") {
  return R"({"custom_id": ")" + id + R"(", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "deepseek-chat", )" +
         R"("messages": [{"role": "system", "content": "You are a careful assistant who answers every question about )" +
         R"(the weather, the sea, the mountains and the stars in plain words, with one example each time, and )" +
         R"(never more than three sentences. When a question is unclear, you ask one short question back before you answer, and when )" +
         R"(you do not know, you say so and suggest where the person could look it up, such as a library, an almanac or a map."}, {"role": "user", "content": ")" + user + R"("}], "max_tokens": )" +
         std::to_string(max_tokens) + extra + "}}";
}

std::map<std::string, json> results(const std::string& path) {
  std::map<std::string, json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    out[j["custom_id"].is_string() ? j["custom_id"].get<std::string>() : j["id"].get<std::string>()] = j;
  }
  return out;
}

}  // namespace

TEST_CASE("batch: every line gets a result, bad lines an error result, and --resume skips what is done") {
  TempDir dir;
  const std::string model = dir.file("mini.mst");
  REQUIRE(run_cli("synth --preset mini --quiet --out " + model).exit_code == 0);
  const std::string input = dir.file("in.jsonl"), output = dir.file("out.jsonl");
  {
    std::ofstream in(input);
    in << request("a", "Is it going to rain?", 6, R"(, "temperature": 0)") << "\n";
    in << request("b", "How tall is the highest mountain?", 5, R"(, "logprobs": true, "top_logprobs": 3)") << "\n";
    in << "this is not json\n\n";
    in << R"({"custom_id": "c", "body": {"messages": [], "max_tokens": 3}})" << "\n";
    in << request("d", "x", 4, R"(, "temperature": 7)") << "\n";
    in << request("a", "again", 4) << "\n";
    in << request("e", "What is a star?", 4, R"(, "model": "deepseek-reasoner")") << "\n";
  }
  CliResult r = run_cli("batch " + model + " --input " + input + " --output " + output + " --parallel 1 --quiet");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("7 requests: 3 ok, 0 failed, 4 bad lines") != std::string::npos);
  auto res = results(output);
  REQUIRE(res.size() == 6);  // a, b, e, c, d and the bad JSON line (the duplicate 'a' reuses a's key)
  CHECK(res["a"]["response"]["status_code"] == 200);
  const json& body = res["a"]["response"]["body"];
  CHECK(body["object"] == "chat.completion");
  CHECK(body["choices"][0]["finish_reason"] == "length");
  CHECK(body["usage"]["completion_tokens"] == 6);
  CHECK(body["usage"]["prompt_tokens"] == body["usage"]["prompt_cache_hit_tokens"].get<int>() +
                                              body["usage"]["prompt_cache_miss_tokens"].get<int>());
  CHECK(res["b"]["response"]["body"]["choices"][0]["logprobs"]["content"].size() == 5);
  CHECK(res["b"]["response"]["body"]["choices"][0]["logprobs"]["content"][0]["top_logprobs"].size() == 3);
  // The shared system prompt (more than 64 tokens) is served from the prefix cache after 'a'.
  CHECK(res["b"]["response"]["body"]["usage"]["prompt_cache_hit_tokens"].get<int>() >= 64);
  CHECK(res["e"]["response"]["body"]["choices"][0]["message"].contains("reasoning_content"));
  CHECK(res["c"]["response"]["status_code"] == 400);
  CHECK(res["c"]["response"]["body"]["error"]["message"].get<std::string>().find("messages") != std::string::npos);
  CHECK(res["d"]["response"]["body"]["error"]["message"].get<std::string>().find("temperature") != std::string::npos);
  CHECK(res["batch_req_3"]["error"]["code"] == "invalid_json");

  // An existing output is not overwritten without --force or --resume.
  r = run_cli("batch " + model + " --input " + input + " --output " + output + " --quiet");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("--resume") != std::string::npos);

  // Resume after a run that got only 'a' done: a is kept as it was, the rest run.
  const std::string a_line = [&] {
    std::ifstream in(output);
    std::string line;
    while (std::getline(in, line))
      if (line.find("\"custom_id\":\"a\"") != std::string::npos) return line;
    return std::string();
  }();
  { std::ofstream(output + ".partial") << a_line << "\n" << "{\"torn line"; }
  std::filesystem::remove(output);
  r = run_cli("batch " + model + " --input " + input + " --output " + output + " --resume --quiet");
  REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  CHECK(r.output.find("2 already done") != std::string::npos);  // a, and its duplicate line
  CHECK(read_file(output).find(a_line) == 0);
  CHECK(results(output).size() == 6);
  CHECK_FALSE(std::filesystem::exists(output + ".partial"));
}
