// The prefix cache: the KV of prompt prefixes, kept in blocks of 64 tokens so a later prompt
// that starts with the same tokens skips computing them. A block is named by a hash chained
// over every token before it, so a hit always covers whole blocks from token 0 (as DeepSeek's
// context caching does); the tokens are stored too and compared, so a hash collision is a
// miss, never a wrong answer. Blocks live in RAM under their own byte budget (least recently
// used go first) and, with a directory, also on disk: one checksummed file per block, written
// to a temporary name and renamed, found again after a restart. A corrupt, truncated or
// foreign file is skipped with one warning and never changes an answer.
//
// Not thread-safe: the engine's scheduler thread owns it.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "runtime/kv_cache.h"

namespace moestream {

struct PrefixCacheOptions {
  uint64_t ram_bytes = 256ull << 20;  // 0: no RAM tier (and no cache unless dir is set)
  std::string dir;                    // empty: no disk tier
};

struct PrefixCacheStats {
  uint64_t lookups = 0, hit_tokens = 0, blocks_in_ram = 0, ram_bytes = 0;
  uint64_t disk_reads = 0, disk_writes = 0, disk_rejected = 0, write_errors = 0;
};

class PrefixCache {
 public:
  static constexpr int64_t kBlockTokens = 64;

  // `fingerprint` names the model (files of another model are foreign); `layout` gives the KV
  // shape and precision of the blocks.
  PrefixCache(const PrefixCacheOptions& options, uint64_t fingerprint, const KvCache& layout,
              std::function<void(std::string_view)> log);

  bool enabled() const { return options_.ram_bytes > 0 || !options_.dir.empty(); }

  // Copies the longest cached prefix of `tokens`, whole blocks and at most `max_tokens`
  // tokens, into the empty `cache`; returns its length in tokens.
  int64_t restore(std::span<const int32_t> tokens, int64_t max_tokens, KvCache& cache);
  // Keeps every whole block of tokens[0, cache.size()) not already kept.
  void store(std::span<const int32_t> tokens, const KvCache& cache);

  const PrefixCacheStats& stats() const { return stats_; }

 private:
  struct Block {
    uint64_t key = 0;
    std::vector<int32_t> tokens;
    std::vector<uint8_t> kv;  // copy_rows_out() of the block's 64 rows
  };

  static uint64_t chain(uint64_t parent, std::span<const int32_t> block_tokens);
  const Block* find(uint64_t key, std::span<const int32_t> block_tokens);
  void keep_in_ram(Block block);
  bool read_file(uint64_t key, Block* out);
  void write_file(const Block& block);
  std::string path_of(uint64_t key) const;
  void warn_once(const std::string& message);

  PrefixCacheOptions options_;
  uint64_t fingerprint_;
  int64_t layers_, row_bytes_;
  KvCachePrecision precision_;
  uint64_t block_bytes_;
  std::function<void(std::string_view)> log_;
  bool warned_ = false;
  Block from_disk_;       // the last block read, when there is no RAM tier to keep it
  std::list<Block> lru_;  // most recent first
  std::unordered_map<uint64_t, std::list<Block>::iterator> index_;
  PrefixCacheStats stats_;
};

}  // namespace moestream
