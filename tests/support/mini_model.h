// Test-only: the `mini` synthetic model (real 129K tokenizer, smallest shapes, random weights)
// written into a TempDir: what the chat, server and C API tests talk to.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "format/synthetic_model.h"
#include "temp_dir.h"

namespace moestream::testing {

inline std::string synth_mini_model(const TempDir& dir, const std::string& name = "mini.mst") {
  SynthOptions o;
  o.preset = "mini";
  o.progress = false;
  const std::string path = dir.file(name);
  auto written = synthesize_container(o, path);
  REQUIRE_MESSAGE(written.ok(), written.status().to_string());
  return path;
}

}  // namespace moestream::testing
