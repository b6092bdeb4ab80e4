#include "text/tokenizer/bpe_model.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "tests/text/tokenizer/tokenizer_test_support.h"

namespace moestream {
namespace {

const BpeModel& deepseek_bpe() {
  static const BpeModel* model = [] {
    auto json = nlohmann::json::parse(testing::read_file(testing::vendored_tokenizer_dir() + "/tokenizer.json"));
    auto bpe = BpeModel::from_json(json["model"]);
    REQUIRE(bpe.ok());
    return new BpeModel(std::move(bpe).value());
  }();
  return *model;
}

TEST_CASE("bpe: the scan and priority-queue merge strategies agree") {
  const BpeModel& bpe = deepseek_bpe();
  CHECK(bpe.merge_count() == 127741);
  std::mt19937 rng(11);
  const std::string alphabet[] = {"a", "b", "e", "n", "t", " ", "th", "in", "的", "é", "1", "\n", "😀"};
  for (int trial = 0; trial < 500; ++trial) {
    std::string word;
    size_t parts = 1 + rng() % 60;
    for (size_t i = 0; i < parts; ++i) word += alphabet[rng() % std::size(alphabet)];
    std::vector<int32_t> scan = bpe.byte_symbols(word), queue = scan;
    bpe.merge_by_scan(&scan);
    bpe.merge_by_queue(&queue);
    CHECK(scan == queue);
    std::string back;
    for (int32_t id : scan) back += bpe.token_bytes(id);
    CHECK(back == word);
  }
}

TEST_CASE("bpe: merges follow rank order") {
  const BpeModel& bpe = deepseek_bpe();
  std::vector<int32_t> ids;
  bpe.encode_word(" the", &ids);
  REQUIRE(ids.size() == 1);  // " the" is one token
  CHECK(bpe.token_bytes(ids[0]) == " the");
  // The cache returns the same as a fresh merge.
  std::vector<int32_t> again;
  bpe.encode_word(" the", &again);
  CHECK(again == ids);
}

}  // namespace
}  // namespace moestream
