#include "profiling/cachesim/routing_csv_reader.h"

#include <doctest/doctest.h>

#include <fstream>

#include "support/temp_dir.h"

using namespace moestream;
using namespace moestream::cachesim;

namespace {
const char* kHeader = "Layer ID,Batch Number,Token,Activated Expert IDs\n";

std::string write(const moestream::testing::TempDir& dir, const std::string& name,
                  const std::string& body) {
  std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << body;
  return path;
}
}  // namespace

TEST_CASE("rows grouped by layer become token-major steps, and quoted tokens parse") {
  moestream::testing::TempDir dir;
  // Tokens with a comma and a doubled quote, as in the shared traces.
  std::string path = write(dir, "p.csv", std::string(kHeader) +
                                            "1,0,\",\",\"[8, 26, 3]\"\n"
                                            "1,0,\"\xC4\xA0\"\"\",\"[1, 2, 3]\"\n"
                                            "2,0,\",\",\"[4, 5, 6]\"\n"
                                            "2,0,\"\xC4\xA0\"\"\",\"[7, 9, 30]\"\r\n");
  RoutingTrace trace;
  REQUIRE(append_routing_csv(path, {}, &trace).ok());
  CHECK(trace.num_layers == 2);
  CHECK(trace.layer_labels == std::vector<uint32_t>{1, 2});
  CHECK(trace.top_k == 3);
  CHECK(trace.num_experts == 31);
  CHECK(trace.num_tokens() == 2);
  CHECK(trace.step_layer == std::vector<uint16_t>{0, 1, 0, 1});
  CHECK(trace.step_token == std::vector<uint32_t>{0, 0, 1, 1});
  CHECK(trace.experts == std::vector<uint16_t>{8, 26, 3, 4, 5, 6, 1, 2, 3, 7, 9, 30});
  CHECK_FALSE(trace.has_phase);
  // A second file is a second sequence.
  REQUIRE(append_routing_csv(path, {.num_experts = 64}, &trace).ok());
  CHECK(trace.num_sequences == 2);
  CHECK(trace.num_experts == 64);
  CHECK(trace.validate().ok());
}

TEST_CASE("malformed routing CSVs name the file and the line") {
  moestream::testing::TempDir dir;
  RoutingTrace trace;
  auto error = [&](const std::string& body) {
    RoutingTrace t;
    std::string path = write(dir, "bad.csv", body);
    Status s = append_routing_csv(path, {}, &t);
    REQUIRE_FALSE(s.ok());
    return s.message();
  };
  CHECK(error("Layer,Token\n").find("bad.csv:1: expected the header") != std::string::npos);
  CHECK(error("").find("empty file") != std::string::npos);
  std::string h = kHeader;
  CHECK(error(h + "1,0,a,\"[1, 2]\"\n1,0,b,\"[1 2]\"\n").find("bad.csv:3: expert list") !=
        std::string::npos);
  CHECK(error(h + "1,0,a,\"[1, 2]\"\n1,0,b,\"[1, 2, 3]\"\n").find("bad.csv:3: row has 3 experts") !=
        std::string::npos);
  CHECK(error(h + "x,0,a,\"[1, 2]\"\n").find("bad.csv:2: Layer ID") != std::string::npos);
  CHECK(error(h + "1,0,a,\"[1, 1]\"\n").find("bad.csv:2: an expert appears twice") !=
        std::string::npos);
  CHECK(error(h + "1,0,a,\"[1, 2]\"\n2,0,a,\"[1, 2]\"\n2,0,b,\"[1, 2]\"\n")
            .find("layer 2 has 2 rows but layer 1 has 1") != std::string::npos);
  CHECK(error(h + "1,0,\"a,\"[1, 2]\"\n").find("not closed") != std::string::npos);
  CHECK(error(h + "1,3,a,\"[1, 2]\"\n").find("only batch 0") != std::string::npos);
  CHECK(error(h + "1,0,a\n").find("bad.csv:2: expected 4 fields") != std::string::npos);
  CHECK(error(h).find("no data rows") != std::string::npos);
  std::string path = write(dir, "big.csv", h + "1,0,a,\"[1, 70]\"\n");
  CHECK(append_routing_csv(path, {.num_experts = 64}, &trace).message().find("not below --experts 64") !=
        std::string::npos);
  CHECK(append_routing_csv(dir.file("missing.csv"), {}, &trace).code() == ErrorCode::kNotFound);
}

TEST_CASE("files with different layers or k are refused") {
  moestream::testing::TempDir dir;
  RoutingTrace trace;
  REQUIRE(append_routing_csv(write(dir, "a.csv", std::string(kHeader) + "1,0,a,\"[1, 2]\"\n"), {}, &trace).ok());
  CHECK(append_routing_csv(write(dir, "b.csv", std::string(kHeader) + "2,0,a,\"[1, 2]\"\n"), {}, &trace)
            .message().find("layers differ") != std::string::npos);
  CHECK(append_routing_csv(write(dir, "c.csv", std::string(kHeader) + "1,0,a,\"[1, 2, 3]\"\n"), {}, &trace)
            .message().find("earlier") != std::string::npos);
}
