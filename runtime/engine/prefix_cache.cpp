#include "runtime/engine/prefix_cache.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "format/checksum.h"

namespace moestream {
namespace {

constexpr char kMagic[8] = {'M', 'S', 'T', 'K', 'V', 'B', '1', '\0'};

// The fixed-size head of a block file; the block's tokens and KV bytes follow.
struct FileHeader {
  char magic[8];
  uint64_t fingerprint;
  uint64_t key;
  uint32_t block_tokens;
  uint32_t layers;
  uint32_t row_bytes;
  uint32_t precision;  // 0 f32, 1 bf16
  uint64_t payload_bytes;
  uint64_t payload_checksum;  // xxh3 of tokens + KV
  uint64_t header_checksum;   // xxh3 of everything above
};

}  // namespace

PrefixCache::PrefixCache(const PrefixCacheOptions& options, uint64_t fingerprint, const KvCache& layout,
                         std::function<void(std::string_view)> log)
    : options_(options),
      fingerprint_(fingerprint),
      layers_(layout.layers()),
      row_bytes_(layout.bytes_per_token_per_layer()),
      precision_(layout.precision()),
      block_bytes_(layout.bytes_for(kBlockTokens)),
      log_(std::move(log)) {
  if (!options_.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.dir, ec);
    if (ec) {
      warn_once("prefix cache: cannot use directory " + options_.dir + " (" + ec.message() + "); RAM only");
      options_.dir.clear();
    }
  }
}

uint64_t PrefixCache::chain(uint64_t parent, std::span<const int32_t> block_tokens) {
  Xxh3Stream h;
  h.update(&parent, sizeof(parent));
  h.update(block_tokens.data(), block_tokens.size_bytes());
  return h.digest();
}

void PrefixCache::warn_once(const std::string& message) {
  if (warned_ || !log_) return;
  warned_ = true;
  log_("warning: " + message);
}

const PrefixCache::Block* PrefixCache::find(uint64_t key, std::span<const int32_t> block_tokens) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    if (!std::equal(block_tokens.begin(), block_tokens.end(), it->second->tokens.begin())) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);  // most recent
    return &*it->second;
  }
  if (options_.dir.empty()) return nullptr;
  if (!read_file(key, &from_disk_)) return nullptr;
  if (!std::equal(block_tokens.begin(), block_tokens.end(), from_disk_.tokens.begin())) return nullptr;
  ++stats_.disk_reads;
  if (options_.ram_bytes < block_bytes_) return &from_disk_;  // no RAM tier
  keep_in_ram(std::move(from_disk_));
  return &*index_.find(key)->second;
}

int64_t PrefixCache::restore(std::span<const int32_t> tokens, int64_t max_tokens, KvCache& cache) {
  if (!enabled()) return 0;
  ++stats_.lookups;
  uint64_t key = fingerprint_;
  int64_t done = 0;
  while (done + kBlockTokens <= std::min<int64_t>(max_tokens, static_cast<int64_t>(tokens.size()))) {
    const auto block_tokens = tokens.subspan(static_cast<size_t>(done), kBlockTokens);
    key = chain(key, block_tokens);
    const Block* block = find(key, block_tokens);
    if (block == nullptr) break;
    cache.copy_rows_in(done, done + kBlockTokens, block->kv.data());
    done += kBlockTokens;
  }
  cache.set_size(done);
  stats_.hit_tokens += static_cast<uint64_t>(done);
  return done;
}

void PrefixCache::store(std::span<const int32_t> tokens, const KvCache& cache) {
  if (!enabled()) return;
  const int64_t whole = std::min<int64_t>(cache.size(), static_cast<int64_t>(tokens.size())) / kBlockTokens * kBlockTokens;
  uint64_t key = fingerprint_;
  for (int64_t done = 0; done < whole; done += kBlockTokens) {
    const auto block_tokens = tokens.subspan(static_cast<size_t>(done), kBlockTokens);
    key = chain(key, block_tokens);
    if (index_.count(key)) {
      lru_.splice(lru_.begin(), lru_, index_[key]);
      continue;
    }
    Block block;
    block.key = key;
    block.tokens.assign(block_tokens.begin(), block_tokens.end());
    block.kv.resize(block_bytes_);
    cache.copy_rows_out(done, done + kBlockTokens, block.kv.data());
    if (!options_.dir.empty() && !std::filesystem::exists(path_of(key))) write_file(block);
    keep_in_ram(std::move(block));
  }
}

void PrefixCache::keep_in_ram(Block block) {
  if (options_.ram_bytes < block_bytes_) return;  // disk only
  while (stats_.ram_bytes + block_bytes_ > options_.ram_bytes && !lru_.empty()) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
    stats_.ram_bytes -= block_bytes_;
    --stats_.blocks_in_ram;
  }
  const uint64_t key = block.key;
  lru_.push_front(std::move(block));
  index_[key] = lru_.begin();
  stats_.ram_bytes += block_bytes_;
  ++stats_.blocks_in_ram;
}

std::string PrefixCache::path_of(uint64_t key) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.kvb", static_cast<unsigned long long>(key));
  return options_.dir + "/" + name;
}

bool PrefixCache::read_file(uint64_t key, Block* out) {
  const std::string path = path_of(key);
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;  // not cached: a plain miss
  auto reject = [&](const std::string& why) {
    ++stats_.disk_rejected;
    warn_once("prefix cache: skipping " + path + ": " + why);
    return false;
  };
  FileHeader h{};
  if (!in.read(reinterpret_cast<char*>(&h), sizeof(h))) return reject("truncated header");
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return reject("not a prefix-cache block");
  if (xxh3_64(&h, offsetof(FileHeader, header_checksum)) != h.header_checksum) return reject("header checksum mismatch");
  const uint64_t payload = kBlockTokens * sizeof(int32_t) + block_bytes_;
  if (h.fingerprint != fingerprint_ || h.key != key || h.block_tokens != kBlockTokens ||
      h.layers != static_cast<uint32_t>(layers_) || h.row_bytes != static_cast<uint32_t>(row_bytes_) ||
      h.precision != (precision_ == KvCachePrecision::kF32 ? 0u : 1u) || h.payload_bytes != payload) {
    return reject("written for another model or KV layout");
  }
  out->key = key;
  out->tokens.resize(kBlockTokens);
  out->kv.resize(block_bytes_);
  if (!in.read(reinterpret_cast<char*>(out->tokens.data()), kBlockTokens * sizeof(int32_t)) ||
      !in.read(reinterpret_cast<char*>(out->kv.data()), static_cast<std::streamsize>(block_bytes_))) {
    return reject("truncated");
  }
  Xxh3Stream sum;
  sum.update(out->tokens.data(), kBlockTokens * sizeof(int32_t));
  sum.update(out->kv.data(), out->kv.size());
  if (sum.digest() != h.payload_checksum) return reject("checksum mismatch (damaged)");
  return true;
}

void PrefixCache::write_file(const Block& block) {
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.fingerprint = fingerprint_;
  h.key = block.key;
  h.block_tokens = kBlockTokens;
  h.layers = static_cast<uint32_t>(layers_);
  h.row_bytes = static_cast<uint32_t>(row_bytes_);
  h.precision = precision_ == KvCachePrecision::kF32 ? 0 : 1;
  h.payload_bytes = kBlockTokens * sizeof(int32_t) + block_bytes_;
  Xxh3Stream sum;
  sum.update(block.tokens.data(), block.tokens.size() * sizeof(int32_t));
  sum.update(block.kv.data(), block.kv.size());
  h.payload_checksum = sum.digest();
  h.header_checksum = xxh3_64(&h, offsetof(FileHeader, header_checksum));
  const std::string path = path_of(block.key);
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&h), sizeof(h));
    out.write(reinterpret_cast<const char*>(block.tokens.data()), static_cast<std::streamsize>(block.tokens.size() * sizeof(int32_t)));
    out.write(reinterpret_cast<const char*>(block.kv.data()), static_cast<std::streamsize>(block.kv.size()));
    out.flush();
    if (!out) {
      out.close();
      std::remove(temp.c_str());
      ++stats_.write_errors;
      warn_once("prefix cache: cannot write " + path + " (disk full?); continuing without it");
      return;
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    ++stats_.write_errors;
    return;
  }
  ++stats_.disk_writes;
}

}  // namespace moestream
