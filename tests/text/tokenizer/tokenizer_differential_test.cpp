// Differential test: the C++ tokenizer against the reference JavaScript implementation
// (@lenml/tokenizers, pinned in tests/tools/package.json) on the corpus in
// tests/data/tokenizer/corpus, plus any files named by MOESTREAM_TOKENIZER_EXTRA_CORPUS
// (directories or files, separated by ':'). Every id must match, and decode(encode(x)) must
// give x back (x with U+FFFD for ill-formed UTF-8).
//
// The reference is installed with `npm ci` into tests/tools/node_modules on first use. Without
// node or the npm registry the test is skipped with a message; set
// MOESTREAM_REQUIRE_TOKENIZER_REFERENCE=1 (CI does) to make that a failure instead.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>

#include "text/tokenizer/unicode_classes.h"
#include "text/tokenizer/utf8.h"
#include "tests/text/tokenizer/tokenizer_test_support.h"
#include "support/node_modules.h"
#include "tests/support/temp_dir.h"

namespace moestream {
namespace {

namespace fs = std::filesystem;

bool reference_required() {
  const char* v = std::getenv("MOESTREAM_REQUIRE_TOKENIZER_REFERENCE");
  return v != nullptr && std::string(v) == "1";
}

// Returns an empty string when the reference is ready, else why it is not.
std::string prepare_reference(const std::string&) { return testing::prepare_node_package("@lenml/tokenizers", "3.7.2"); }

std::vector<std::string> corpus_files() {
  std::vector<std::string> roots = {std::string(MOESTREAM_TEST_DATA_DIR) + "/tokenizer/corpus"};
  if (const char* extra = std::getenv("MOESTREAM_TOKENIZER_EXTRA_CORPUS")) {
    std::stringstream list(extra);
    std::string item;
    while (std::getline(list, item, ':')) {
      if (!item.empty()) roots.push_back(item);
    }
  }
  std::vector<std::string> files;
  for (const std::string& root : roots) {
    if (fs::is_regular_file(root)) {
      files.push_back(root);
      continue;
    }
    REQUIRE_MESSAGE(fs::is_directory(root), "corpus path does not exist: " << root);
    for (const auto& entry : fs::recursive_directory_iterator(root)) {
      if (entry.is_regular_file()) files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::map<std::string, std::vector<int32_t>> read_reference(const std::string& path) {
  std::map<std::string, std::vector<int32_t>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::vector<int32_t> ids;
    std::istringstream nums(line.substr(tab + 1));
    int32_t id;
    while (nums >> id) ids.push_back(id);
    out[line.substr(0, tab)] = std::move(ids);
  }
  return out;
}

std::string describe_tokens(const Tokenizer& tokenizer, const std::vector<int32_t>& ids, size_t at) {
  std::ostringstream out;
  size_t from = at >= 5 ? at - 5 : 0;
  for (size_t i = from; i < std::min(ids.size(), at + 6); ++i) {
    std::string text(tokenizer.token_bytes(ids[i]));
    out << (i == at ? " >>" : " ") << ids[i] << "(";
    for (unsigned char c : text) {
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
        out << buf;
      } else {
        out << c;
      }
    }
    out << ")";
  }
  return out.str();
}

TEST_CASE("tokenizer matches the JavaScript reference on the corpus, and round-trips") {
  const std::string tools_dir = std::string(MOESTREAM_SOURCE_DIR) + "/tests/tools";
  std::string why_not = prepare_reference(tools_dir);
  if (!why_not.empty()) {
    if (reference_required()) FAIL("reference tokenizer unavailable: " << why_not);
    MESSAGE("SKIPPED: the differential tokenizer test needs the reference tokenizer: " << why_not);
    return;
  }
  const std::vector<std::string> files = corpus_files();
  testing::TempDir tmp;
  std::string ids_path = tmp.file("reference_ids.txt");
  std::string list_path = tmp.file("files.txt");
  std::string command = "node '" + tools_dir + "/tokenizer_reference.mjs' '" +
                        testing::vendored_tokenizer_dir() + "' '" + ids_path + "'";
  for (const std::string& f : files) command += " '" + f + "'";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "the reference script failed: " << command);
  auto reference = read_reference(ids_path);
  if (auto version = reference.find("#unicode"); version != reference.end()) {
    // read_reference parsed "17.0" as the ids {17}; compare the major version it names.
    std::string node_major = version->second.empty() ? "?" : std::to_string(version->second[0]);
    std::string table = std::string(unicode_classes_version());
    if (table.substr(0, table.find('.')) != node_major) {
      MESSAGE("WARNING: node uses Unicode " << node_major << ".x but the C++ tables were generated "
              "from Unicode " << table << "; characters assigned in between may differ. Regenerate "
              "text/tokenizer/unicode_classes_data.inc with scripts/tokenizer_gen_unicode_classes.mjs.");
    }
  }

  const Tokenizer& tokenizer = testing::deepseek_tokenizer();
  size_t total_bytes = 0, total_tokens = 0, mismatched_files = 0, roundtrip_failures = 0;
  for (const std::string& file : files) {
    const std::string text = testing::read_file(file);
    total_bytes += text.size();
    auto it = reference.find(file);
    REQUIRE_MESSAGE(it != reference.end(), "no reference ids for " << file);
    const std::vector<int32_t>& expected = it->second;
    std::vector<int32_t> ids = tokenizer.encode(text);
    total_tokens += ids.size();
    if (ids != expected) {
      ++mismatched_files;
      size_t at = 0;
      while (at < ids.size() && at < expected.size() && ids[at] == expected[at]) ++at;
      FAIL_CHECK("ids differ from the reference in " << file << " at token " << at << " (C++ "
                     << ids.size() << " tokens, reference " << expected.size() << ")\n  C++:      "
                     << describe_tokens(tokenizer, ids, at) << "\n  reference:"
                     << describe_tokens(tokenizer, expected, at));
    }
    std::string expected_text = utf8::sanitize(text);
    if (tokenizer.decode(ids) != expected_text) {
      ++roundtrip_failures;
      FAIL_CHECK("decode(encode(x)) != x for " << file);
    }
  }
  MESSAGE("differential tokenizer test: " << files.size() << " files, " << total_bytes << " bytes, "
          << total_tokens << " tokens; files with mismatched ids: " << mismatched_files
          << "; round-trip failures: " << roundtrip_failures);
  CHECK(mismatched_files == 0);
  CHECK(roundtrip_failures == 0);
}

}  // namespace
}  // namespace moestream
