#include "text/tokenizer/bpe_model.h"

#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>

#include "text/tokenizer/byte_level.h"

namespace moestream {

// Words shorter than this are cached (as in the reference); the cache is dropped whole
// when full, which keeps it simple and bounded.
constexpr size_t kMaxCachedWordBytes = 256;
constexpr size_t kMaxCachedWords = 1 << 17;
// Up to this many symbols the rank-array scan beats the priority queue.
constexpr size_t kScanMergeLimit = 48;

struct BpeModel::WordCache {
  std::mutex mutex;
  std::unordered_map<std::string, std::vector<int32_t>> words;
};

BpeModel::BpeModel() : cache_(std::make_unique<WordCache>()) {}
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;
BpeModel::~BpeModel() = default;

Result<BpeModel> BpeModel::from_json(const nlohmann::json& model) {
  if (!model.is_object() || model.value("type", std::string()) != "BPE") {
    return unsupported("tokenizer.json: the model is not BPE (only byte-level BPE is implemented)");
  }
  if (model.value("byte_fallback", false) || model.value("ignore_merges", false) ||
      !model.value("continuing_subword_prefix", nlohmann::json()).is_null() ||
      !model.value("end_of_word_suffix", nlohmann::json()).is_null()) {
    return unsupported("tokenizer.json: BPE options byte_fallback / ignore_merges / subword "
                       "prefixes or suffixes are not implemented");
  }
  const auto& vocab = model.value("vocab", nlohmann::json());
  const auto& merges = model.value("merges", nlohmann::json());
  if (!vocab.is_object() || !merges.is_array()) {
    return invalid_argument("tokenizer.json: BPE model without a vocab object and a merges list");
  }
  const ByteLevelMap& byte_level = ByteLevelMap::get();
  BpeModel bpe;
  // The vocabulary in byte-level text, to resolve merges written in the same alphabet.
  std::unordered_map<std::string, int32_t> text_to_id;
  text_to_id.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > (1 << 24)) {
      return invalid_argument("tokenizer.json: vocab entry \"" + it.key() + "\" has a bad id");
    }
    auto id = static_cast<int32_t>(it.value().get<int64_t>());
    text_to_id.emplace(it.key(), id);
    if (static_cast<size_t>(id) >= bpe.id_to_bytes_.size()) bpe.id_to_bytes_.resize(id + 1);
    // Entries outside the byte alphabet (the special tokens at ids 0-2) can never come out
    // of BPE; the added-token table gives their text.
    auto bytes = byte_level.decode_token_text(it.key());
    if (!bytes) continue;
    bpe.id_to_bytes_[id] = *bytes;
    bpe.bytes_to_id_.emplace(std::move(*bytes), id);
  }
  for (int b = 0; b < 256; ++b) {
    auto id = bpe.token_id(std::string(1, static_cast<char>(b)));
    if (!id) {
      return invalid_argument("tokenizer.json: the vocab lacks the byte-level token for byte " +
                              std::to_string(b) + ", so not every text could be encoded");
    }
    bpe.byte_ids_[b] = *id;
  }
  bpe.merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& m = merges[rank];
    std::string left, right;
    if (m.is_string()) {
      // Old format "left right"; byte-level tokens never contain a space.
      const auto& text = m.get_ref<const std::string&>();
      size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        return invalid_argument("tokenizer.json: merge " + std::to_string(rank) + " \"" + text +
                                "\" is not two tokens separated by one space");
      }
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      return invalid_argument("tokenizer.json: merge " + std::to_string(rank) + " is malformed");
    }
    auto l = text_to_id.find(left), r = text_to_id.find(right), merged = text_to_id.find(left + right);
    if (l == text_to_id.end() || r == text_to_id.end() || merged == text_to_id.end()) {
      return invalid_argument("tokenizer.json: merge " + std::to_string(rank) + " (\"" + left +
                              "\", \"" + right + "\") uses or makes a token missing from the vocab");
    }
    bpe.merges_.insert(l->second, r->second, {static_cast<int32_t>(rank), merged->second});
  }
  return bpe;
}

std::string_view BpeModel::token_bytes(int32_t id) const {
  if (id < 0 || id >= id_limit()) return {};
  return id_to_bytes_[id];
}

std::optional<int32_t> BpeModel::token_id(std::string_view bytes) const {
  auto it = bytes_to_id_.find(std::string(bytes));
  if (it == bytes_to_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<int32_t> BpeModel::byte_symbols(std::string_view word) const {
  std::vector<int32_t> symbols(word.size());
  for (size_t i = 0; i < word.size(); ++i) symbols[i] = byte_ids_[static_cast<uint8_t>(word[i])];
  return symbols;
}

void BpeModel::merge_by_scan(std::vector<int32_t>* symbols) const {
  constexpr int32_t kNone = std::numeric_limits<int32_t>::max();
  auto& s = *symbols;
  if (s.size() < 2) return;
  // ranks[i] is the merge rank of (s[i], s[i+1]); only the neighbours change after a merge.
  std::vector<int32_t> ranks(s.size() - 1);
  auto rank_at = [&](size_t i) {
    int32_t r = merges_.find(s[i], s[i + 1]).rank;
    return r < 0 ? kNone : r;
  };
  for (size_t i = 0; i + 1 < s.size(); ++i) ranks[i] = rank_at(i);
  while (!ranks.empty()) {
    size_t best = 0;
    for (size_t i = 1; i < ranks.size(); ++i) {
      if (ranks[i] < ranks[best]) best = i;  // strict: the leftmost wins ties
    }
    if (ranks[best] == kNone) break;
    s[best] = merges_.find(s[best], s[best + 1]).merged_id;
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(best) + 1);
    ranks.erase(ranks.begin() + static_cast<std::ptrdiff_t>(best));
    if (best > 0) ranks[best - 1] = rank_at(best - 1);
    if (best < ranks.size()) ranks[best] = rank_at(best);
  }
}

void BpeModel::merge_by_queue(std::vector<int32_t>* symbols) const {
  auto& s = *symbols;
  const size_t n = s.size();
  if (n < 2) return;
  // A doubly linked list over the original positions; a merge keeps the left position.
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t left_id, right_id;  // the pair it was computed for, to detect stale entries
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto push = [&](int32_t pos) {
    int32_t nx = next[pos];
    if (nx < 0) return;
    BpeMerge m = merges_.find(s[pos], s[nx]);
    if (m.rank >= 0) queue.push({m.rank, pos, s[pos], s[nx]});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!queue.empty()) {
    Candidate c = queue.top();
    queue.pop();
    int32_t nx = next[c.pos];
    if (!alive[c.pos] || nx < 0 || s[c.pos] != c.left_id || s[nx] != c.right_id) continue;
    s[c.pos] = merges_.find(c.left_id, c.right_id).merged_id;
    alive[nx] = false;
    next[c.pos] = next[nx];
    if (next[nx] >= 0) prev[next[nx]] = c.pos;
    if (prev[c.pos] >= 0) push(prev[c.pos]);
    push(c.pos);
  }
  size_t out = 0;
  for (int32_t i = 0; i >= 0; i = next[i]) s[out++] = s[i];
  s.resize(out);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>* out) const {
  if (word.size() == 1) {
    out->push_back(byte_ids_[static_cast<uint8_t>(word[0])]);
    return;
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    auto it = cache_->words.find(std::string(word));
    if (it != cache_->words.end()) {
      out->insert(out->end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> symbols = byte_symbols(word);
  if (symbols.size() <= kScanMergeLimit) {
    merge_by_scan(&symbols);
  } else {
    merge_by_queue(&symbols);
  }
  out->insert(out->end(), symbols.begin(), symbols.end());
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    if (cache_->words.size() >= kMaxCachedWords) cache_->words.clear();
    cache_->words.emplace(std::string(word), std::move(symbols));
  }
}

}  // namespace moestream

