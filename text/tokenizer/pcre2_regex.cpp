#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/tokenizer/pcre2_regex.h"

#include <pcre2.h>

#include <utility>

namespace moestream {
namespace {

pcre2_code* as_code(void* p) { return static_cast<pcre2_code*>(p); }

size_t utf8_char_length(uint8_t lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

}  // namespace

Result<Pcre2Regex> Pcre2Regex::compile(std::string_view pattern) {
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  // No PCRE2_UCP: \d, \w and \b stay ASCII as in JavaScript; Unicode classes arrive as ranges.
  uint32_t options = PCRE2_UTF | PCRE2_NO_UTF_CHECK | PCRE2_DOLLAR_ENDONLY;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error_code, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error_code, message, sizeof(message));
    return invalid_argument("tokenizer regex does not compile with PCRE2 at offset " +
                            std::to_string(error_offset) + ": " +
                            reinterpret_cast<const char*>(message));
  }
  // JIT is an optimization only: without it (e.g. an unsupported CPU) the interpreter runs.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  Pcre2Regex regex;
  regex.code_ = code;
  return regex;
}

Pcre2Regex::Pcre2Regex(Pcre2Regex&& other) noexcept : code_(std::exchange(other.code_, nullptr)) {}

Pcre2Regex& Pcre2Regex::operator=(Pcre2Regex&& other) noexcept {
  if (this != &other) {
    if (code_ != nullptr) pcre2_code_free(as_code(code_));
    code_ = std::exchange(other.code_, nullptr);
  }
  return *this;
}

Pcre2Regex::~Pcre2Regex() {
  if (code_ != nullptr) pcre2_code_free(as_code(code_));
}

Pcre2Regex::Scratch::Scratch(const Pcre2Regex& regex)
    : match_data_(pcre2_match_data_create_from_pattern(as_code(regex.code_), nullptr)) {
  // Long runs (e.g. 100k spaces against \s+(?!\S)) need more than the default 32 KiB of
  // JIT stack; the interpreter below is the fallback when even this is not enough.
  auto* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
  auto* context = pcre2_match_context_create(nullptr);
  if (stack != nullptr && context != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
  // JavaScript has no backtracking budget; PCRE2's default (10 million) could cut a match
  // short on megabytes of one character class and change the pieces.
  if (context != nullptr) pcre2_set_match_limit(context, UINT32_MAX);
  jit_stack_ = stack;
  match_context_ = context;
}

Pcre2Regex::Scratch::~Scratch() {
  pcre2_match_context_free(static_cast<pcre2_match_context*>(match_context_));
  pcre2_jit_stack_free(static_cast<pcre2_jit_stack*>(jit_stack_));
  pcre2_match_data_free(static_cast<pcre2_match_data*>(match_data_));
}

void Pcre2Regex::split_isolated(std::string_view text, Scratch& scratch,
                                std::vector<std::string_view>* out) const {
  auto* match_data = static_cast<pcre2_match_data*>(scratch.match_data_);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t piece_start = 0;  // start of the gap not yet emitted
  size_t search_from = 0;
  while (search_from <= text.size()) {
    auto* context = static_cast<pcre2_match_context*>(scratch.match_context_);
    int rc = pcre2_match(as_code(code_), subject, text.size(), search_from, PCRE2_NO_UTF_CHECK,
                         match_data, context);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
      rc = pcre2_match(as_code(code_), subject, text.size(), search_from,
                       PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, match_data, context);
    }
    // No match, or (after the interpreter also gave up on a resource limit) the rest of
    // the text stays one piece.
    if (rc < 0) break;
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(match_data);
    size_t begin = ovector[0], end = ovector[1];
    if (end == begin) {
      if (begin >= text.size()) break;
      search_from = begin + utf8_char_length(static_cast<uint8_t>(text[begin]));
      continue;
    }
    if (begin > piece_start) out->push_back(text.substr(piece_start, begin - piece_start));
    out->push_back(text.substr(begin, end - begin));
    piece_start = end;
    search_from = end;
  }
  if (piece_start < text.size()) out->push_back(text.substr(piece_start));
}

}  // namespace moestream
