#include "interop/safetensors_file.h"

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "platform/json_limits.h"

namespace moestream {

namespace {
constexpr uint64_t kMaxHeaderSize = uint64_t{1} << 30;  // the real V3 shards have ~100 KB headers
constexpr int64_t kMaxDims = 8;

bool get_u64(const nlohmann::json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) {
    *out = static_cast<uint64_t>(v.get<int64_t>());
    return true;
  }
  return false;
}
}  // namespace

uint64_t SafetensorsEntry::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

Result<SafetensorsHeader> parse_safetensors_header(const uint8_t* bytes, uint64_t size,
                                                   uint64_t file_size, const std::string& file_name) {
  using nlohmann::json;
  if (file_size < 8 || size > file_size - 8) {
    return corrupt(file_name + ": safetensors header length " + std::to_string(size) +
                   " exceeds the file size " + std::to_string(file_size));
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes), static_cast<size_t>(size));
  auto parsed = parse_json_with_limits(text, json_limits::kSafetensorsHeader, file_name + ": safetensors header");
  if (!parsed.ok()) return corrupt(parsed.status().message());
  if (!parsed->is_object()) {
    return corrupt(file_name + ": safetensors header is not a JSON object");
  }
  const json& j = *parsed;
  SafetensorsHeader header;
  header.data_start = 8 + size;
  const uint64_t data_size = file_size - header.data_start;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return corrupt(file_name + ": __metadata__ must be an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) {
          return corrupt(file_name + ": __metadata__ value \"" + m.key() + "\" must be a string");
        }
        header.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string& what) {
      return corrupt(file_name + ": tensor \"" + name + "\": " + what);
    };
    if (!v.is_object()) return bad("entry must be an object");
    SafetensorsEntry e;
    e.name = name;
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) return bad("missing dtype");
    auto dtype = dtype_from_name(dt->get<std::string>());
    if (!dtype) {
      return Status(ErrorCode::kUnsupported, file_name + ": tensor \"" + name + "\": dtype " +
                                                 dt->get<std::string>() + " is not supported");
    }
    e.dtype = *dtype;
    auto shape = v.find("shape");
    if (shape == v.end() || !shape->is_array() || static_cast<int64_t>(shape->size()) > kMaxDims) {
      return bad("shape must be an array of at most 8 dimensions");
    }
    uint64_t numel = 1;
    for (const json& d : *shape) {
      uint64_t dim = 0;
      if (!get_u64(d, &dim) || dim > (uint64_t{1} << 40)) return bad("invalid dimension in shape");
      if (dim != 0 && numel > (uint64_t{1} << 50) / dim) return bad("shape overflows");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    auto offsets = v.find("data_offsets");
    uint64_t begin = 0, end = 0;
    if (offsets == v.end() || !offsets->is_array() || offsets->size() != 2 ||
        !get_u64((*offsets)[0], &begin) || !get_u64((*offsets)[1], &end)) {
      return bad("data_offsets must be [begin, end]");
    }
    if (begin > end || end > data_size) {
      return bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                 "] out of range: the data section is " + std::to_string(data_size) + " bytes");
    }
    if (end - begin != numel * dtype_size(e.dtype)) {
      return bad("data_offsets span " + std::to_string(end - begin) + " bytes but shape and dtype need " +
                 std::to_string(numel * dtype_size(e.dtype)));
    }
    e.offset = header.data_start + begin;
    e.size = end - begin;
    header.entries.push_back(std::move(e));
  }
  std::sort(header.entries.begin(), header.entries.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < header.entries.size(); ++i) {
    const auto& prev = header.entries[i - 1];
    if (prev.offset + prev.size > header.entries[i].offset) {
      return corrupt(file_name + ": tensors \"" + prev.name + "\" and \"" + header.entries[i].name +
                     "\" overlap");
    }
  }
  return header;
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  MOESTREAM_ASSIGN_OR_RETURN(f.file_, File::open_read(path));
  MOESTREAM_ASSIGN_OR_RETURN(f.file_size_, f.file_.size());
  if (f.file_size_ < 8) return corrupt(path + ": too short for a safetensors file");
  uint8_t len_bytes[8];
  MOESTREAM_TRY(f.file_.read_exact(len_bytes, 8, 0));
  uint64_t len = 0;
  for (int i = 7; i >= 0; --i) len = (len << 8) | len_bytes[i];
  if (len > kMaxHeaderSize || len > f.file_size_ - 8) {
    return corrupt(path + ": safetensors header length " + std::to_string(len) +
                   " exceeds the file size " + std::to_string(f.file_size_));
  }
  std::string text(len, '\0');
  MOESTREAM_TRY(f.file_.read_exact(text.data(), len, 8));
  MOESTREAM_ASSIGN_OR_RETURN(f.header_, parse_safetensors_header(
                                            reinterpret_cast<const uint8_t*>(text.data()), len,
                                            f.file_size_, path));
  for (size_t i = 0; i < f.header_.entries.size(); ++i) f.index_[f.header_.entries[i].name] = i;
  return f;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &header_.entries[it->second];
}

Status SafetensorsFile::read(const SafetensorsEntry& entry, void* out) const {
  return file_.read_exact(out, entry.size, entry.offset).with_context("tensor " + entry.name);
}

Status SafetensorsFile::read_part(const SafetensorsEntry& entry, uint64_t begin, void* out,
                                  uint64_t size) const {
  if (begin > entry.size || size > entry.size - begin) {
    return internal_error("read_part beyond tensor " + entry.name);
  }
  return file_.read_exact(out, size, entry.offset + begin).with_context("tensor " + entry.name);
}

std::string encode_safetensors_header(const std::vector<SafetensorsEntry>& entries,
                                      const std::map<std::string, std::string>& metadata) {
  // Built by hand to keep the entry order (nlohmann sorts keys); names are JSON-escaped.
  auto quote = [](const std::string& s) { return nlohmann::json(s).dump(); };
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [k, v] : metadata) {
      if (!first) json += ",";
      first = false;
      json += quote(k) + ":" + quote(v);
    }
    json += "}";
  }
  for (const auto& e : entries) {
    if (json.size() > 1) json += ",";
    json += quote(e.name) + ":{\"dtype\":\"" + std::string(dtype_name(e.dtype)) + "\",\"shape\":[";
    for (size_t i = 0; i < e.shape.size(); ++i) {
      if (i) json += ",";
      json += std::to_string(e.shape[i]);
    }
    json += "],\"data_offsets\":[" + std::to_string(e.offset) + "," + std::to_string(e.offset + e.size) +
            "]}";
  }
  json += "}";
  while ((json.size() + 8) % 8 != 0) json += ' ';
  std::string out(8, '\0');
  uint64_t len = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace moestream
