#include "text/tokenizer/tokenizer.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "platform/file.h"
#include "platform/json_limits.h"
#include "text/tokenizer/bpe_model.h"
#include "text/tokenizer/pretokenizer.h"
#include "text/tokenizer/utf8.h"

namespace moestream {
namespace {

constexpr std::string_view kDeepSeekBos = "<｜begin▁of▁sentence｜>";
constexpr std::string_view kDeepSeekEos = "<｜end▁of▁sentence｜>";

Result<std::string> read_whole_file(const std::string& path) {
  MOESTREAM_ASSIGN_OR_RETURN(File file, File::open_read(path));
  MOESTREAM_ASSIGN_OR_RETURN(uint64_t size, file.size());
  std::string text(size, '\0');
  if (size > 0) MOESTREAM_TRY(file.read_exact(text.data(), size, 0));
  return text;
}

// tokenizer_config.json writes special tokens as a string or as {"content": ...}.
std::optional<std::string> config_token(const nlohmann::json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const auto& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

Status check_normalizer(const nlohmann::json& normalizer) {
  if (normalizer.is_null()) return ok_status();
  if (normalizer.is_object() && normalizer.value("type", std::string()) == "Sequence" &&
      normalizer.value("normalizers", nlohmann::json::array()).empty()) {
    return ok_status();
  }
  return unsupported("tokenizer.json: normalizers are not implemented (DeepSeek-V3 has none): " +
                     normalizer.dump().substr(0, 200));
}

}  // namespace

struct Tokenizer::Impl {
  BpeModel bpe;
  PreTokenizer pre_tokenizer;
  std::unordered_map<int32_t, AddedToken> added;  // by id
  std::unordered_map<std::string, int32_t> added_by_text;
  AddedTokenMatcher matcher;
  std::optional<int32_t> bos, eos;
  int32_t id_limit = 0;

  void encode_plain(std::string_view text, PreTokenizer::Scratch& scratch,
                    std::vector<std::string_view>& pieces, std::vector<int32_t>* out) const {
    pre_tokenizer.split(text, scratch, &pieces);
    for (std::string_view piece : pieces) bpe.encode_word(piece, out);
  }
};

Tokenizer::Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Result<Tokenizer> Tokenizer::from_json(std::string_view tokenizer_json,
                                       std::string_view tokenizer_config_json) {
  try {
    auto parsed = parse_json_with_limits(tokenizer_json, json_limits::kTokenizer, "tokenizer.json");
    if (!parsed.ok()) return parsed.status();
    if (!parsed->is_object()) return invalid_argument("tokenizer.json is not a JSON object");
    const nlohmann::json& doc = *parsed;
    nlohmann::json config;
    if (!tokenizer_config_json.empty()) {
      MOESTREAM_ASSIGN_OR_RETURN(config, parse_json_with_limits(tokenizer_config_json, json_limits::kConfig,
                                                                "tokenizer_config.json"));
    }
    MOESTREAM_TRY(check_normalizer(doc.value("normalizer", nlohmann::json())));
    const auto& decoder = doc.value("decoder", nlohmann::json());
    if (!decoder.is_null() && decoder.value("type", std::string()) != "ByteLevel") {
      return unsupported("tokenizer.json: only the ByteLevel decoder is implemented");
    }
    auto bpe = BpeModel::from_json(doc.value("model", nlohmann::json()));
    if (!bpe.ok()) return bpe.status();
    auto pre = PreTokenizer::from_json(doc.value("pre_tokenizer", nlohmann::json()));
    if (!pre.ok()) return pre.status();

    Tokenizer tokenizer;
    tokenizer.impl_ = std::unique_ptr<Impl>(new Impl{std::move(bpe).value(), std::move(pre).value(),
                                                     {}, {}, {}, {}, {}, 0});
    Impl& impl = *tokenizer.impl_;
    impl.id_limit = impl.bpe.id_limit();
    const auto& added = doc.value("added_tokens", nlohmann::json::array());
    for (const auto& entry : added) {
      if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_number_integer() ||
          !entry.contains("content") || !entry["content"].is_string()) {
        return invalid_argument("tokenizer.json: malformed added_tokens entry " + entry.dump().substr(0, 200));
      }
      if (entry.value("lstrip", false) || entry.value("rstrip", false) || entry.value("single_word", false)) {
        return unsupported("tokenizer.json: added tokens with lstrip/rstrip/single_word are not "
                           "implemented: " + entry["content"].get<std::string>());
      }
      AddedToken token{static_cast<int32_t>(entry["id"].get<int64_t>()),
                       entry["content"].get<std::string>(), entry.value("special", false)};
      if (token.id < 0 || token.content.empty()) {
        return invalid_argument("tokenizer.json: added token with a negative id or empty text");
      }
      impl.matcher.add(token.id, token.content);
      impl.added_by_text[token.content] = token.id;
      impl.id_limit = std::max(impl.id_limit, token.id + 1);
      impl.added[token.id] = std::move(token);
    }
    auto bos_text = config_token(config, "bos_token").value_or(std::string(kDeepSeekBos));
    auto eos_text = config_token(config, "eos_token").value_or(std::string(kDeepSeekEos));
    impl.bos = tokenizer.token_id(bos_text);
    impl.eos = tokenizer.token_id(eos_text);
    return tokenizer;
  } catch (const nlohmann::json::exception& e) {
    // A value of the wrong type deep inside (e.g. "type": [..]): an error, not an abort.
    return invalid_argument(std::string("tokenizer.json: unexpected value: ") + e.what());
  }
}

Result<Tokenizer> Tokenizer::from_file(const std::string& path) {
  auto json = read_whole_file(path);
  if (!json.ok()) return json.status().with_context("reading the tokenizer");
  std::string config_text;
  auto config_path = std::filesystem::path(path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (std::filesystem::is_regular_file(config_path, ec)) {
    auto config = read_whole_file(config_path.string());
    if (config.ok()) config_text = std::move(config).value();
  }
  auto tokenizer = from_json(*json, config_text);
  if (!tokenizer.ok()) return tokenizer.status().with_context(path);
  return tokenizer;
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, const EncodeOptions& options) const {
  const Impl& impl = *impl_;
  std::string sanitized;
  std::string_view text = input;
  if (!utf8::is_valid(input)) {
    sanitized = utf8::sanitize(input);
    text = sanitized;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (options.add_bos && impl.bos) ids.push_back(*impl.bos);
  PreTokenizer::Scratch scratch(impl.pre_tokenizer);
  std::vector<std::string_view> pieces;
  size_t pos = 0;
  while (pos < text.size()) {
    std::optional<AddedTokenMatcher::Match> match;
    if (options.match_added_tokens) match = impl.matcher.find(text, pos);
    size_t plain_end = match ? match->begin : text.size();
    if (plain_end > pos) impl.encode_plain(text.substr(pos, plain_end - pos), scratch, pieces, &ids);
    if (!match) break;
    ids.push_back(match->id);
    pos = match->begin + match->length;
  }
  return ids;
}

std::string_view Tokenizer::token_bytes(int32_t id, const DecodeOptions& options) const {
  auto it = impl_->added.find(id);
  if (it != impl_->added.end()) {
    if (it->second.special && options.skip_special_tokens) return {};
    return it->second.content;
  }
  return impl_->bpe.token_bytes(id);
}

std::string Tokenizer::decode(std::span<const int32_t> ids, const DecodeOptions& options) const {
  std::string bytes;
  for (int32_t id : ids) bytes.append(token_bytes(id, options));
  return utf8::is_valid(bytes) ? bytes : utf8::sanitize(bytes);
}

std::optional<int32_t> Tokenizer::token_id(std::string_view text) const {
  auto it = impl_->added_by_text.find(std::string(text));
  if (it != impl_->added_by_text.end()) return it->second;
  return impl_->bpe.token_id(text);
}

const AddedToken* Tokenizer::added_token(int32_t id) const {
  auto it = impl_->added.find(id);
  return it == impl_->added.end() ? nullptr : &it->second;
}

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* token = added_token(id);
  return token != nullptr && token->special;
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }
int32_t Tokenizer::id_limit() const { return impl_->id_limit; }

}  // namespace moestream
