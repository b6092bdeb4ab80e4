#include "profiling/cachesim/routing_csv_reader.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace moestream::cachesim {

bool next_csv_record(const std::string& text, size_t* pos, std::vector<std::string>* fields,
                     std::string* error) {
  fields->clear();
  size_t i = *pos;
  if (i >= text.size()) return false;
  std::string field;
  bool quoted = false;
  while (i < text.size()) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      ++i;
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n') {
      ++i;
      break;
    } else if (c != '\r') {
      field += c;
    }
    ++i;
  }
  if (quoted) *error = "a quoted field is not closed before the end of the file";
  fields->push_back(std::move(field));
  *pos = i;
  return true;
}

namespace {

Result<uint32_t> parse_uint(const std::string& s, uint32_t max) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > max)
    return invalid_argument("'" + s + "' is not an integer in 0.." + std::to_string(max));
  return v;
}

// "[8, 26, 56]" -> {8, 26, 56}
Result<std::vector<uint16_t>> parse_id_list(const std::string& s) {
  std::vector<uint16_t> ids;
  size_t i = 0;
  auto skip = [&] { while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i; };
  skip();
  if (i >= s.size() || s[i] != '[') return invalid_argument("expert list must start with '['");
  ++i;
  skip();
  if (i < s.size() && s[i] == ']') return invalid_argument("expert list is empty");
  while (true) {
    skip();
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data() + i, s.data() + s.size(), v);
    if (ec != std::errc() || v > 65534)
      return invalid_argument("expert list has a non-integer or too large id near '" +
                              s.substr(i, 8) + "'");
    ids.push_back(static_cast<uint16_t>(v));
    i = static_cast<size_t>(end - s.data());
    skip();
    if (i < s.size() && s[i] == ',') { ++i; continue; }
    if (i < s.size() && s[i] == ']') { ++i; break; }
    return invalid_argument("expert list is missing ',' or ']'");
  }
  skip();
  if (i != s.size()) return invalid_argument("unexpected text after the expert list");
  return ids;
}

}  // namespace

Status append_routing_csv(const std::string& path, const RoutingCsvOptions& options,
                          RoutingTrace* trace) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot open routing CSV");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 BOM

  std::vector<std::string> fields;
  std::string error;
  size_t pos = 0;
  size_t line = 1;
  auto fail = [&](size_t at_line, const std::string& what) {
    return invalid_argument(path + ":" + std::to_string(at_line) + ": " + what);
  };
  if (!next_csv_record(text, &pos, &fields, &error))
    return invalid_argument(path + ": empty file, expected the header "
                            "'Layer ID,Batch Number,Token,Activated Expert IDs'");
  if (fields.size() != 4 || fields[0] != "Layer ID" || fields[3] != "Activated Expert IDs")
    return fail(1, "expected the header 'Layer ID,Batch Number,Token,Activated Expert IDs'");

  std::map<uint32_t, std::vector<std::vector<uint16_t>>> rows_by_layer;  // in file order
  uint32_t k = trace->top_k;
  uint32_t max_id = 0;
  while (true) {
    size_t row_line = line + 1;
    size_t before = pos;
    if (!next_csv_record(text, &pos, &fields, &error)) break;
    line += static_cast<size_t>(std::count(text.begin() + static_cast<std::ptrdiff_t>(before),
                                           text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
    if (!error.empty()) return fail(row_line, error);
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != 4)
      return fail(row_line, "expected 4 fields (layer, batch, token, expert list), found " +
                                std::to_string(fields.size()));
    auto layer = parse_uint(fields[0], 1u << 20);
    if (!layer.ok()) return fail(row_line, "Layer ID " + layer.status().message());
    auto batch = parse_uint(fields[1], 1u << 30);
    if (!batch.ok()) return fail(row_line, "Batch Number " + batch.status().message());
    if (*batch != 0)
      return fail(row_line, "Batch Number " + fields[1] + ": only batch 0 is supported "
                            "(split batches into one file each)");
    auto ids = parse_id_list(fields[3]);
    if (!ids.ok()) return fail(row_line, ids.status().message());
    if (k == 0) k = static_cast<uint32_t>(ids->size());
    if (ids->size() != k)
      return fail(row_line, "row has " + std::to_string(ids->size()) + " experts; earlier rows had " +
                                std::to_string(k));
    auto sorted = *ids;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return fail(row_line, "an expert appears twice in the list");
    max_id = std::max<uint32_t>(max_id, sorted.back());
    if (options.num_experts && max_id >= options.num_experts)
      return fail(row_line, "expert id " + std::to_string(max_id) + " is not below --experts " +
                                std::to_string(options.num_experts));
    rows_by_layer[*layer].push_back(std::move(*ids));
  }
  if (rows_by_layer.empty()) return invalid_argument(path + ": no data rows");

  std::vector<uint32_t> labels;
  for (const auto& [id, rows] : rows_by_layer) labels.push_back(id);
  size_t tokens = rows_by_layer.begin()->second.size();
  for (const auto& [id, rows] : rows_by_layer)
    if (rows.size() != tokens)
      return invalid_argument(path + ": layer " + std::to_string(id) + " has " +
                              std::to_string(rows.size()) + " rows but layer " +
                              std::to_string(labels.front()) + " has " + std::to_string(tokens) +
                              "; every layer needs one row per token");
  if (trace->num_layers == 0) {
    trace->num_layers = static_cast<uint32_t>(labels.size());
    trace->layer_labels = labels;
    trace->top_k = k;
  } else if (trace->layer_labels != labels) {
    return invalid_argument(path + ": its layers differ from the earlier traces' (" +
                            std::to_string(labels.size()) + " layers, first " +
                            std::to_string(labels.front()) + ")");
  } else if (trace->top_k != k) {
    return invalid_argument(path + ": " + std::to_string(k) + " experts per row, earlier traces had " +
                            std::to_string(trace->top_k));
  }
  uint32_t experts = options.num_experts ? options.num_experts : max_id + 1;
  trace->num_experts = std::max(trace->num_experts, experts);

  const uint32_t sequence = trace->num_sequences++;
  for (size_t t = 0; t < tokens; ++t) {
    uint32_t token = static_cast<uint32_t>(trace->num_tokens());
    trace->token_sequence.push_back(sequence);
    trace->token_phase.push_back(kPhasePrefill);  // teacher-forced text; phase not recorded
    uint16_t layer_index = 0;
    for (const auto& [id, rows] : rows_by_layer) {
      trace->step_layer.push_back(layer_index++);
      trace->step_token.push_back(token);
      trace->experts.insert(trace->experts.end(), rows[t].begin(), rows[t].end());
    }
  }
  trace->sources.push_back(path);
  return ok_status();
}

}  // namespace moestream::cachesim
