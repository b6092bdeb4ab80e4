// Loads the tokenizer (and the chat template text) a command or session needs from either a
// .mst container (its embedded tokenizer.json / tokenizer_config.json) or a tokenizer.json
// file (tokenizer_config.json beside it is read when present).
#pragma once

#include <string>
#include <string_view>

#include "platform/status.h"
#include "format/container_reader.h"
#include "text/chat/chat_template.h"
#include "text/tokenizer/tokenizer.h"

namespace moestream {

struct ModelTokenizer {
  Tokenizer tokenizer;
  // The Jinja chat template the model shipped (container header, else tokenizer_config.json);
  // empty when there is none. moestream renders templates natively; this text is only used
  // to recognize which one (see text/chat/chat_template.h).
  std::string chat_template_text;
};

Result<ModelTokenizer> load_model_tokenizer(const std::string& path);
// The same from an open container (kNotFound when it has no tokenizer).
Result<ModelTokenizer> model_tokenizer_from_container(const ContainerReader& reader);
// The template for this tokenizer and its Jinja text (detect_chat_template_kind).
ChatTemplateKind chat_template_kind_of(const ModelTokenizer& tokenizer);

// The "chat_template" of a tokenizer_config.json text (a string, or the "default" entry of a
// list of {name, template}); empty when absent or when the text is not JSON within the limits.
std::string chat_template_from_tokenizer_config(std::string_view config_json);

}  // namespace moestream
