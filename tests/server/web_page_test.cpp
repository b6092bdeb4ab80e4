// The web chat page served by `moestream serve`, in a real headless Chromium driven by
// puppeteer-core (tests/tools/web_page.mjs): streaming, thinking, stop, markup safety, reload,
// telemetry against /metrics, 360 and 1280 px screenshots (left in the build dir, not committed).
#include <doctest/doctest.h>

#include <filesystem>

#include "server/http_server.h"
#include "support/mini_model.h"
#include "support/cli_runner.h"
#include "support/node_modules.h"
#include "support/temp_dir.h"

using namespace moestream;
using namespace moestream::testing;

TEST_CASE("the web page in headless Chromium: chat, thinking, stop, safe markdown, reload, telemetry") {
  const std::string why = prepare_node_package("puppeteer-core", "24.43.1");
  if (!why.empty()) {
    MESSAGE("skipped: " << why);
    return;
  }
  if (!std::filesystem::exists("/usr/bin/chromium")) {
    MESSAGE("skipped: /usr/bin/chromium is not installed (scripts/test.sh installs it)");
    return;
  }
  TempDir dir;
  const std::string model = synth_mini_model(dir);
  EngineOptions eo;
  eo.max_context = 4096;
  eo.max_sequences = 4;
  server::ServerOptions so;
  so.port = 0;
  auto srv = server::HttpServer::start(model, eo, so);
  REQUIRE(srv.ok());
  REQUIRE((*srv)->wait_until_loaded().ok());
  const std::string shots = std::filesystem::current_path().string() + "/web-page-screenshots";
  std::filesystem::create_directories(shots);
  const CliResult r = run_shell("timeout 240 node " + std::string(MOESTREAM_SOURCE_DIR) + "/tests/tools/web_page.mjs http://127.0.0.1:" +
                                std::to_string((*srv)->bound_port()) + " " + shots);
  MESSAGE(r.output);
  if (r.exit_code == 3) {
    MESSAGE("skipped: Chromium cannot start here");
    return;
  }
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("FAIL") == std::string::npos);
  CHECK(std::filesystem::exists(shots + "/chat-360.png"));
}
