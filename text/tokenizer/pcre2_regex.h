// A compiled PCRE2 regex (UTF mode, JIT when available) that splits text the way a
// tokenizers `Split` step with behavior "Isolated" does: every match and every gap between
// matches becomes its own piece, in order.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "platform/status.h"

namespace moestream {

class Pcre2Regex {
 public:
  // `pattern` is PCRE2 syntax (see translate_js_regex_for_pcre2).
  static Result<Pcre2Regex> compile(std::string_view pattern);

  Pcre2Regex(Pcre2Regex&&) noexcept;
  Pcre2Regex& operator=(Pcre2Regex&&) noexcept;
  ~Pcre2Regex();

  // Per-thread match state; create one per encode call and reuse it across pieces.
  class Scratch {
   public:
    explicit Scratch(const Pcre2Regex& regex);
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

   private:
    friend class Pcre2Regex;
    void* match_data_ = nullptr;
    void* jit_stack_ = nullptr;
    void* match_context_ = nullptr;
  };

  // Appends the pieces of `text` (valid UTF-8) to `out`. Empty matches split nothing; the
  // search then moves on by one code point, as JavaScript's matchAll does.
  void split_isolated(std::string_view text, Scratch& scratch,
                      std::vector<std::string_view>* out) const;

 private:
  Pcre2Regex() = default;
  void* code_ = nullptr;  // pcre2_code_8*
};

}  // namespace moestream
