#include "output_format_flags.h"

#include <fstream>
#include <sstream>

#include "api/response_format.h"

namespace moestream::cli {

void OutputFormatFlags::add_to(ArgParser& args) {
  args.flag("--json", &json, "answer with one JSON object (grammar-constrained)");
  args.option("--json-schema", &json_schema, "FILE", "answer with JSON valid against the JSON Schema in FILE");
}

Status OutputFormatFlags::load() {
  using J = nlohmann::ordered_json;
  response_format_.reset();
  if (json_schema.empty()) {
    if (json) response_format_ = J{{"type", "json_object"}};
    return ok_status();
  }
  std::ifstream in(json_schema, std::ios::binary);
  if (!in) return invalid_argument("--json-schema: cannot read " + json_schema);
  std::stringstream text;
  text << in.rdbuf();
  J schema = J::parse(text.str(), nullptr, false);
  if (schema.is_discarded()) return invalid_argument("--json-schema: " + json_schema + " is not valid JSON");
  J rf{{"type", "json_schema"}, {"json_schema", {{"name", "schema"}, {"schema", schema}}}};
  // The same check a server request gets: an unsupported keyword is named now.
  auto spec = api::response_format_spec(J{{"response_format", rf}}, ChatTemplateKind::kDeepSeekV31, false, "none");
  if (!spec.ok()) return invalid_argument("--json-schema " + json_schema + ": " + spec.status().message());
  response_format_ = std::move(rf);
  return ok_status();
}

Result<std::shared_ptr<TokenGrammar>> OutputFormatFlags::grammar(const Engine& engine, bool thinking) const {
  const auto& rf = response_format_;
  if (!rf) return std::shared_ptr<TokenGrammar>();
  if (!engine.tokenizer()) return invalid_argument("--json needs the container's tokenizer, and it has none");
  MOESTREAM_ASSIGN_OR_RETURN(auto spec, api::response_format_spec(nlohmann::ordered_json{{"response_format", *rf}},
                                                                  engine.chat_template(), thinking, "none"));
  return engine.constrain(*spec);
}

}  // namespace moestream::cli
