// `moestream serve` as a user runs it, driven by the real `openai` npm client
// (tests/tools/openai_client.mjs): every check of that script must pass.
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include "support/cli_runner.h"
#include "support/file_contents.h"
#include "support/node_modules.h"
#include "support/temp_dir.h"

using namespace moestream::testing;

TEST_CASE("the openai npm client: models, plain, streaming, reasoning, tools, prefix, FIM, logprobs, wrong key") {
  const std::string why = prepare_node_package("openai", "4.104.0");
  if (!why.empty()) {
    MESSAGE("skipped: " << why);
    return;
  }
  TempDir dir;
  const std::string model = dir.file("mini.mst"), log = dir.file("serve.log"), pid_file = dir.file("serve.pid");
  REQUIRE(run_cli("synth --preset mini --quiet --out " + model).exit_code == 0);
  REQUIRE(run_shell(std::string(MOESTREAM_CLI_PATH) + " serve " + model + " --port 0 --api-key sk-moe --max-context 1024 > " +
                    log + " 2>&1 & echo $! > " + pid_file).exit_code == 0);
  std::string port;
  for (int i = 0; i < 600 && port.empty(); ++i) {
    std::smatch m;
    const std::string text = read_file(log);
    if (text.find("ready at") != std::string::npos && std::regex_search(text, m, std::regex("127\\.0\\.0\\.1:([0-9]+)"))) port = m[1];
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_MESSAGE(!port.empty(), read_file(log));
  const CliResult r = run_shell("timeout 120 node " + std::string(MOESTREAM_SOURCE_DIR) +
                                "/tests/tools/openai_client.mjs http://127.0.0.1:" + port + "/v1 sk-moe");
  run_shell("kill -TERM $(cat " + pid_file + ")");
  MESSAGE(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("FAIL") == std::string::npos);
  for (int i = 0; i < 100 && read_file(log).find("stopped") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(read_file(log).find("moestream serve: stopped") != std::string::npos);
}
