#include "api/response_format.h"

#include "text/grammar/json_schema_grammar.h"

namespace moestream::api {
namespace {

using json = nlohmann::ordered_json;

// Checked when the request arrives: compiling is cheap, and the error can name the keyword.
Status check_schema(const json& schema, const std::string& field) {
  auto g = json_schema_grammar(schema);
  if (!g.ok()) return invalid_argument("'" + field + "' " + g.status().message());
  return ok_status();
}

}  // namespace

Result<std::optional<ChatOutputSpec>> response_format_spec(const json& body, ChatTemplateKind kind, bool thinking,
                                                           const std::string& tool_choice) {
  ChatOutputSpec spec;
  spec.kind = kind;
  spec.thinking = thinking;
  spec.tool_choice = tool_choice;
  bool constrained = false;
  if (body.contains("response_format") && !body["response_format"].is_null()) {
    const json& rf = body["response_format"];
    if (!rf.is_object() || !rf.contains("type") || !rf["type"].is_string()) {
      return corrupt("'response_format' must be {\"type\": \"text\" | \"json_object\" | \"json_schema\"}");
    }
    const std::string type = rf["type"].get<std::string>();
    if (type == "json_object") {
      spec.json_object = constrained = true;
    } else if (type == "json_schema") {
      if (!rf.contains("json_schema") || !rf["json_schema"].is_object()) {
        return corrupt("'response_format.json_schema' must be an object with a schema");
      }
      const json& js = rf["json_schema"];
      if (!js.contains("schema") || !(js["schema"].is_object() || js["schema"].is_boolean())) {
        return corrupt("'response_format.json_schema.schema' must be a JSON Schema object");
      }
      MOESTREAM_TRY(check_schema(js["schema"], "response_format.json_schema.schema"));
      spec.json_schema = js["schema"];
      constrained = true;
    } else if (type != "text") {
      return invalid_argument("'response_format.type' must be text, json_object or json_schema");
    }
  }
  if (body.contains("tools") && body["tools"].is_array()) {
    for (size_t i = 0; i < body["tools"].size(); ++i) {
      const json& t = body["tools"][i];
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;  // the tools parser says why
      const json& fn = t["function"];
      ConstrainedTool tool;
      tool.name = fn.value("name", std::string());
      if (fn.contains("strict") && fn["strict"].is_boolean() && fn["strict"].get<bool>()) {
        const std::string field = "tools[" + std::to_string(i) + "].function.parameters";
        const json params = fn.contains("parameters") ? fn["parameters"] : json::object();
        MOESTREAM_TRY(check_schema(params, field));
        tool.parameters = params;
        constrained = true;
      }
      spec.tools.push_back(std::move(tool));
    }
  }
  // Strict functions the model may not call leave nothing to constrain.
  if (tool_choice == "none" && !spec.json_object && !spec.json_schema) constrained = false;
  if (!constrained) return std::optional<ChatOutputSpec>();
  return std::optional<ChatOutputSpec>(std::move(spec));
}

}  // namespace moestream::api
