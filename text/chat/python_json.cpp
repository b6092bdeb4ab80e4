#include "text/chat/python_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "text/tokenizer/utf8.h"

namespace moestream {
namespace {

void append_u_escape(unsigned value, std::string* out) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\u%04x", value);
  out->append(buf);
}

void append_string(const std::string& s, std::string* out) {
  out->push_back('"');
  const auto* data = reinterpret_cast<const uint8_t*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    size_t n = utf8::decode_one(data + i, s.size() - i, &cp);
    if (n == 0) {  // not reachable for JSON that nlohmann parsed; keep output valid anyway
      cp = utf8::kReplacementCharacter;
      n = utf8::maximal_subpart_length(data + i, s.size() - i);
    }
    i += n;
    switch (cp) {
      case '"': out->append("\\\""); continue;
      case '\\': out->append("\\\\"); continue;
      case '\n': out->append("\\n"); continue;
      case '\r': out->append("\\r"); continue;
      case '\t': out->append("\\t"); continue;
      case '\b': out->append("\\b"); continue;
      case '\f': out->append("\\f"); continue;
      default: break;
    }
    if (cp < 0x20 || (cp >= 0x7F && cp < 0x10000)) {
      if (cp == 0x7F) {
        out->push_back('\x7f');  // DEL is ASCII: Python leaves it as is
      } else {
        append_u_escape(cp, out);
      }
    } else if (cp >= 0x10000) {
      char32_t v = cp - 0x10000;
      append_u_escape(0xD800 + (v >> 10), out);
      append_u_escape(0xDC00 + (v & 0x3FF), out);
    } else {
      out->push_back(static_cast<char>(cp));
    }
  }
  out->push_back('"');
}

void append_float(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "Infinity" : "-Infinity");
    return;
  }
  // Python's repr: the shortest text that reads back the same, always with "." or "e".
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string text = buf;
  size_t e = text.find('e');
  if (e != std::string::npos) {
    // %g picks the exponent form from `precision` digits up; Python only from 1e16 (and below
    // 1e-4, where both agree). In between the value is a whole number, so "%.1f" is exact.
    int exponent = std::atoi(text.c_str() + e + 1);
    if (exponent >= 0 && exponent < 16) {
      std::snprintf(buf, sizeof(buf), "%.1f", v);
      text = buf;
    } else {
      char exp_buf[16];
      std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
      text = text.substr(0, e) + exp_buf;
    }
  } else if (text.find('.') == std::string::npos && text.find("inf") == std::string::npos) {
    text += ".0";
  }
  out->append(text);
}

void append_value(const nlohmann::ordered_json& v, std::string* out) {
  switch (v.type()) {
    case nlohmann::ordered_json::value_t::null: out->append("null"); return;
    case nlohmann::ordered_json::value_t::boolean: out->append(v.get<bool>() ? "true" : "false"); return;
    case nlohmann::ordered_json::value_t::number_integer: out->append(std::to_string(v.get<int64_t>())); return;
    case nlohmann::ordered_json::value_t::number_unsigned: out->append(std::to_string(v.get<uint64_t>())); return;
    case nlohmann::ordered_json::value_t::number_float: append_float(v.get<double>(), out); return;
    case nlohmann::ordered_json::value_t::string: append_string(v.get_ref<const std::string&>(), out); return;
    case nlohmann::ordered_json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out->append(", ");
        first = false;
        append_value(item, out);
      }
      out->push_back(']');
      return;
    }
    case nlohmann::ordered_json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out->append(", ");
        first = false;
        append_string(it.key(), out);
        out->append(": ");
        append_value(it.value(), out);
      }
      out->push_back('}');
      return;
    }
    default: out->append("null"); return;  // binary / discarded: not produced by the parser
  }
}

}  // namespace

std::string python_json_dumps(const nlohmann::ordered_json& value) {
  std::string out;
  append_value(value, &out);
  return out;
}

}  // namespace moestream
