// The byte-level BPE model of tokenizer.json: vocabulary, merges ranked by their position in
// the merge list, and a cache of recent words. Works on raw bytes: the ByteLevel map is
// applied once when the vocabulary is read, never per encode.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "platform/status.h"
#include "text/tokenizer/bpe_merge_table.h"

namespace moestream {

class BpeModel {
 public:
  // `model` is tokenizer.json's "model" value (type "BPE", byte-level vocabulary).
  static Result<BpeModel> from_json(const nlohmann::json& model);

  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;
  ~BpeModel();

  // Appends the ids of one pre-tokenized piece (raw bytes, non-empty). Thread-safe.
  void encode_word(std::string_view word, std::vector<int32_t>* out) const;

  // The two merge strategies, public so tests can check they agree: repeated scans of a
  // rank array (fast for short words) and a priority queue (linear-log for long ones).
  // Both apply the lowest-rank merge first, the leftmost one on ties.
  void merge_by_scan(std::vector<int32_t>* symbols) const;
  void merge_by_queue(std::vector<int32_t>* symbols) const;
  // The single-byte token ids of `word`, before any merge.
  std::vector<int32_t> byte_symbols(std::string_view word) const;

  // Raw bytes of a vocabulary token; empty for ids it does not have.
  std::string_view token_bytes(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view bytes) const;
  // One past the largest vocabulary id.
  int32_t id_limit() const { return static_cast<int32_t>(id_to_bytes_.size()); }
  size_t merge_count() const { return merges_.size(); }

 private:
  BpeModel();
  struct WordCache;

  std::vector<std::string> id_to_bytes_;
  std::unordered_map<std::string, int32_t> bytes_to_id_;
  std::array<int32_t, 256> byte_ids_{};
  BpeMergeTable merges_;
  std::unique_ptr<WordCache> cache_;
};

}  // namespace moestream
