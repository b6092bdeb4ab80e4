#include "format/container_reader.h"

#include <cstdint>
#include <type_traits>
#include <unordered_map>

#include "format/checksum.h"
#include "format/expert_blob_codec.h"
#include "format/container_layout.h"
#include "format/model_config_fb.h"
#include "format/model_config_json.h"
#include "format/moestream_generated.h"
#include "platform/page_release.h"
#include "platform/aligned_buffer.h"

namespace moestream {

namespace {

constexpr uint64_t kMaxDim = uint64_t{1} << 40;

bool valid_dtype(uint8_t d) { return d <= static_cast<uint8_t>(DType::kU8); }
bool valid_scale_format(uint8_t f) { return f <= static_cast<uint8_t>(ScaleFormat::kUE8M0); }

// a + b <= limit without overflow.
bool fits(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

std::string_view fb_string(const flatbuffers::String* s) {
  return s ? std::string_view(s->c_str(), s->size()) : std::string_view();
}

}  // namespace

struct ContainerReader::Impl {
  std::string path;
  MappedFile file;
  Preamble preamble;
  const fb::Header* header = nullptr;
  ModelConfig config;
  std::unordered_map<std::string_view, const fb::Tensor*> tensors;
  std::vector<const fb::ExpertLayer*> layers;            // by layer number; null = dense
  std::vector<std::vector<std::array<std::string, 3>>> expert_names;  // views need stable names

  Status corrupt_at(const std::string& what) const { return corrupt(path + ": " + what); }
  Status check_tensor(const fb::Tensor& t) const;
  Status check_expert_part(const fb::ExpertPart& p, uint64_t raw_size, int64_t rows, int64_t cols,
                           const std::string& what) const;
  Status check_expert_layer(const fb::ExpertLayer& layer);
  Result<const fb::ExpertBlob*> blob(int64_t layer, int64_t expert) const;
  TensorView part_view(const fb::ExpertPart& p, const uint8_t* base, std::string_view name) const;
};

// Whether a vector's elements sit at their type's alignment. FlatBuffers' verifier checks the
// length before a vector but not its 8-byte elements: a corrupt header can leave them
// misaligned, and reading them would be undefined behaviour (the fuzzer found one). Buffers
// the builder writes are always aligned (the header starts 8-byte aligned in the mapping).
template <typename T>
bool elements_aligned(const flatbuffers::Vector<T>& v) {
  return reinterpret_cast<uintptr_t>(v.Data()) % alignof(std::remove_pointer_t<T>) == 0;
}

ContainerReader::ContainerReader() : impl_(std::make_unique<Impl>()) {}
ContainerReader::~ContainerReader() = default;

Status ContainerReader::Impl::check_tensor(const fb::Tensor& t) const {
  const std::string what = "tensor \"" + std::string(fb_string(t.name())) + "\"";
  if (t.name()->size() == 0) return corrupt_at("a tensor has an empty name");
  if (!valid_dtype(static_cast<uint8_t>(t.dtype()))) return corrupt_at(what + ": unknown dtype");
  if (t.shape()->size() > 4) return corrupt_at(what + ": more than 4 dimensions");
  if (!elements_aligned(*t.shape())) return corrupt_at(what + ": misaligned shape");
  uint64_t numel = 1;
  for (int64_t d : *t.shape()) {
    if (d < 0 || static_cast<uint64_t>(d) > kMaxDim) return corrupt_at(what + ": invalid dimension");
    if (d != 0 && numel > kMaxDim / static_cast<uint64_t>(d)) return corrupt_at(what + ": shape overflows");
    numel *= static_cast<uint64_t>(d);
  }
  const DType dtype = static_cast<DType>(t.dtype());
  if (t.size() != numel * dtype_size(dtype)) {
    return corrupt_at(what + ": size " + std::to_string(t.size()) + " does not match its shape and dtype");
  }
  if (t.offset() % kTensorAlignment != 0 || t.offset() < preamble.data_offset ||
      !fits(t.offset(), t.size(), preamble.header_offset)) {
    return corrupt_at(what + ": data extent [" + std::to_string(t.offset()) + ", +" +
                      std::to_string(t.size()) + ") is misaligned or outside the data area");
  }
  if (!valid_scale_format(static_cast<uint8_t>(t.scale_format()))) {
    return corrupt_at(what + ": unknown scale format");
  }
  const auto format = static_cast<ScaleFormat>(t.scale_format());
  if (format == ScaleFormat::kNone) {
    if (t.scale_size() != 0) return corrupt_at(what + ": scales without a scale format");
    return ok_status();
  }
  if (dtype != DType::kF8E4M3 || t.shape()->size() != 2) {
    return corrupt_at(what + ": block scales on a tensor that is not a 2-D F8_E4M3 weight");
  }
  if (t.block_rows() == 0 || t.block_cols() == 0) return corrupt_at(what + ": zero block size");
  const uint64_t expected = scale_count(t.shape()->Get(0), t.shape()->Get(1), t.block_rows(),
                                        t.block_cols()) * scale_format_size(format);
  if (t.scale_size() != expected) {
    return corrupt_at(what + ": scale size " + std::to_string(t.scale_size()) + " should be " +
                      std::to_string(expected));
  }
  if (t.scale_offset() % kTensorAlignment != 0 || t.scale_offset() < preamble.data_offset ||
      !fits(t.scale_offset(), t.scale_size(), preamble.header_offset)) {
    return corrupt_at(what + ": scale extent is misaligned or outside the data area");
  }
  return ok_status();
}

Status ContainerReader::Impl::check_expert_part(const fb::ExpertPart& p, uint64_t raw_size,
                                                int64_t rows, int64_t cols,
                                                const std::string& what) const {
  if (!valid_dtype(static_cast<uint8_t>(p.dtype())) ||
      !valid_scale_format(static_cast<uint8_t>(p.scale_format()))) {
    return corrupt_at(what + ": unknown dtype or scale format");
  }
  if (p.rows() != rows || p.cols() != cols) {
    return corrupt_at(what + ": shape [" + std::to_string(p.rows()) + ", " + std::to_string(p.cols()) +
                      "] contradicts the config ([" + std::to_string(rows) + ", " + std::to_string(cols) + "])");
  }
  const auto dtype = static_cast<DType>(p.dtype());
  const auto format = static_cast<ScaleFormat>(p.scale_format());
  if (p.data_size() != static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols) * dtype_size(dtype) ||
      p.data_offset() % kTensorAlignment != 0 || !fits(p.data_offset(), p.data_size(), raw_size)) {
    return corrupt_at(what + ": weight extent inside the blob is invalid");
  }
  if (format == ScaleFormat::kNone) {
    if (p.scale_size() != 0) return corrupt_at(what + ": scales without a scale format");
    return ok_status();
  }
  if (dtype != DType::kF8E4M3 || p.block_rows() == 0 || p.block_cols() == 0) {
    return corrupt_at(what + ": block scales on a weight that is not F8_E4M3");
  }
  if (p.scale_size() != scale_count(rows, cols, p.block_rows(), p.block_cols()) * scale_format_size(format) ||
      p.scale_offset() % kTensorAlignment != 0 || !fits(p.scale_offset(), p.scale_size(), raw_size)) {
    return corrupt_at(what + ": scale extent inside the blob is invalid");
  }
  return ok_status();
}

Status ContainerReader::Impl::check_expert_layer(const fb::ExpertLayer& layer) {
  const int64_t l = layer.layer();
  const std::string what = "expert layer " + std::to_string(l);
  if (l < 0 || l >= config.total_layers()) return corrupt_at(what + ": layer number out of range");
  if (!config.is_moe_layer(l)) return corrupt_at(what + ": the config says this layer is dense");
  if (layers[l] != nullptr) return corrupt_at(what + " appears twice");
  if (!elements_aligned(*layer.experts())) return corrupt_at(what + ": misaligned expert table");
  if (static_cast<int64_t>(layer.experts()->size()) != config.n_routed_experts) {
    return corrupt_at(what + ": has " + std::to_string(layer.experts()->size()) + " experts, config says " +
                      std::to_string(config.n_routed_experts));
  }
  if (layer.source_files() && layer.source_files()->size() != 3 * layer.experts()->size()) {
    return corrupt_at(what + ": source file list has the wrong length");
  }
  const int64_t h = config.hidden_size, m = config.moe_intermediate_size;
  for (uint32_t e = 0; e < layer.experts()->size(); ++e) {
    const fb::ExpertBlob* b = layer.experts()->Get(e);
    const std::string ew = "expert " + std::to_string(e) + " of layer " + std::to_string(l);
    if (static_cast<uint8_t>(b->compression()) > static_cast<uint8_t>(BlobCompression::kZstd)) {
      return corrupt_at(ew + ": unknown compression");
    }
    if (b->offset() % kBlobAlignment != 0 || b->offset() < preamble.data_offset || b->stored_size() == 0 ||
        b->stored_size() > kMaxDim || !fits(b->offset(), align_up(b->stored_size(), kBlobAlignment),
                                            preamble.header_offset)) {
      return corrupt_at(ew + ": blob extent [" + std::to_string(b->offset()) + ", +" +
                        std::to_string(b->stored_size()) + ") is misaligned or outside the data area");
    }
    if (b->raw_size() % kBlobAlignment != 0 || b->raw_size() > kMaxDim ||
        (b->compression() == fb::Compression::None && b->raw_size() != b->stored_size())) {
      return corrupt_at(ew + ": invalid raw size " + std::to_string(b->raw_size()));
    }
    MOESTREAM_TRY(check_expert_part(b->gate(), b->raw_size(), m, h, ew + " gate_proj"));
    MOESTREAM_TRY(check_expert_part(b->up(), b->raw_size(), m, h, ew + " up_proj"));
    MOESTREAM_TRY(check_expert_part(b->down(), b->raw_size(), h, m, ew + " down_proj"));
  }
  layers[l] = &layer;
  auto& names = expert_names[l];
  names.resize(layer.experts()->size());
  for (size_t e = 0; e < names.size(); ++e) {
    for (int p = 0; p < 3; ++p) names[e][p] = expert_weight_name(l, static_cast<int64_t>(e), p);
  }
  return ok_status();
}

Result<std::unique_ptr<ContainerReader>> ContainerReader::open(const std::string& path,
                                                               const ContainerOpenOptions& options) {
  auto reader = std::unique_ptr<ContainerReader>(new ContainerReader());
  Impl& m = *reader->impl_;
  m.path = path;
  MOESTREAM_ASSIGN_OR_RETURN(m.file, MappedFile::open(path));
  MOESTREAM_ASSIGN_OR_RETURN(m.preamble, decode_preamble(m.file.data(), m.file.size(), path));
  if (m.preamble.data_offset < kPreambleSize || m.preamble.data_offset > m.preamble.header_offset) {
    return m.corrupt_at("data offset in the preamble is invalid");
  }
  const uint8_t* hdr = m.file.data() + m.preamble.header_offset;
  if (xxh3_64(hdr, m.preamble.header_size) != m.preamble.header_checksum) {
    return m.corrupt_at("header checksum mismatch (the header bytes are damaged)");
  }
  if (m.preamble.header_offset % 8 != 0) return m.corrupt_at("header offset is not 8-byte aligned");
  flatbuffers::Verifier verifier(hdr, m.preamble.header_size, /*max_depth=*/64,
                                 /*max_tables=*/100'000'000);
  if (!fb::HeaderBufferHasIdentifier(hdr) || !fb::VerifyHeaderBuffer(verifier)) {
    return m.corrupt_at("the header fails the flatbuffers verifier");
  }
  m.header = fb::GetHeader(hdr);
  m.config = model_config_from_fb(*m.header->config());
  MOESTREAM_TRY(validate_model_config(m.config, path + ": model config"));
  for (const fb::Tensor* t : *m.header->tensors()) {
    MOESTREAM_TRY(m.check_tensor(*t));
    if (!m.tensors.emplace(fb_string(t->name()), t).second) {
      return m.corrupt_at("tensor \"" + t->name()->str() + "\" appears twice");
    }
  }
  m.layers.assign(static_cast<size_t>(m.config.total_layers()), nullptr);
  m.expert_names.resize(m.layers.size());
  if (m.header->expert_layers()) {
    for (const fb::ExpertLayer* layer : *m.header->expert_layers()) {
      if (!layer) return m.corrupt_at("null expert layer");
      MOESTREAM_TRY(m.check_expert_layer(*layer));
    }
  }
  for (int64_t l = 0; l < m.config.total_layers(); ++l) {
    if (m.config.is_moe_layer(l) && m.layers[l] == nullptr) {
      return m.corrupt_at("MoE layer " + std::to_string(l) + " has no expert table");
    }
  }
  if (options.verify_checksums) MOESTREAM_TRY(reader->verify_all_checksums());
  return reader;
}

const std::string& ContainerReader::path() const { return impl_->path; }
const ModelConfig& ContainerReader::config() const { return impl_->config; }
const MappedFile& ContainerReader::file() const { return impl_->file; }
const fb::Header& ContainerReader::header() const { return *impl_->header; }
const Preamble& ContainerReader::preamble() const { return impl_->preamble; }

Result<TensorView> ContainerReader::tensor(std::string_view name) const {
  auto it = impl_->tensors.find(name);
  if (it == impl_->tensors.end()) {
    return not_found(impl_->path + ": no tensor \"" + std::string(name) + "\"");
  }
  const fb::Tensor& t = *it->second;
  TensorView v;
  v.name = fb_string(t.name());
  v.dtype = static_cast<DType>(t.dtype());
  v.rank = t.shape()->size();
  for (uint32_t i = 0; i < v.rank; ++i) v.shape[i] = t.shape()->Get(i);
  v.data = impl_->file.data() + t.offset();
  v.data_bytes = t.size();
  v.scale_format = static_cast<ScaleFormat>(t.scale_format());
  if (v.scale_format != ScaleFormat::kNone) {
    v.scales = impl_->file.data() + t.scale_offset();
    v.block_rows = t.block_rows();
    v.block_cols = t.block_cols();
  }
  return v;
}

bool ContainerReader::has_tensor(std::string_view name) const { return impl_->tensors.count(name) != 0; }

std::vector<std::string> ContainerReader::tensor_names() const {
  std::vector<std::string> names;
  for (const fb::Tensor* t : *impl_->header->tensors()) names.push_back(t->name()->str());
  return names;
}

bool ContainerReader::has_experts(int64_t layer) const {
  return layer >= 0 && layer < static_cast<int64_t>(impl_->layers.size()) && impl_->layers[layer];
}

std::vector<int64_t> ContainerReader::expert_layers() const {
  std::vector<int64_t> out;
  for (size_t l = 0; l < impl_->layers.size(); ++l) {
    if (impl_->layers[l]) out.push_back(static_cast<int64_t>(l));
  }
  return out;
}

Result<const fb::ExpertBlob*> ContainerReader::Impl::blob(int64_t layer, int64_t expert) const {
  if (layer < 0 || layer >= static_cast<int64_t>(layers.size()) || !layers[layer]) {
    return not_found(path + ": layer " + std::to_string(layer) + " has no routed experts");
  }
  if (expert < 0 || expert >= static_cast<int64_t>(layers[layer]->experts()->size())) {
    return not_found(path + ": layer " + std::to_string(layer) + " has no expert " + std::to_string(expert));
  }
  return layers[layer]->experts()->Get(static_cast<uint32_t>(expert));
}

Result<ExpertBlobInfo> ContainerReader::expert_blob(int64_t layer, int64_t expert) const {
  MOESTREAM_ASSIGN_OR_RETURN(const fb::ExpertBlob* b, impl_->blob(layer, expert));
  ExpertBlobInfo info;
  info.layer = static_cast<int32_t>(layer);
  info.expert = static_cast<int32_t>(expert);
  info.offset = b->offset();
  info.stored_size = b->stored_size();
  info.padded_size = align_up(b->stored_size(), kBlobAlignment);
  info.raw_size = b->raw_size();
  info.checksum = b->checksum();
  info.compression = static_cast<BlobCompression>(b->compression());
  return info;
}

TensorView ContainerReader::Impl::part_view(const fb::ExpertPart& p, const uint8_t* base,
                                            std::string_view name) const {
  TensorView v;
  v.name = name;
  v.dtype = static_cast<DType>(p.dtype());
  v.rank = 2;
  v.shape[0] = p.rows();
  v.shape[1] = p.cols();
  v.data = base + p.data_offset();
  v.data_bytes = p.data_size();
  v.scale_format = static_cast<ScaleFormat>(p.scale_format());
  if (v.scale_format != ScaleFormat::kNone) {
    v.scales = base + p.scale_offset();
    v.block_rows = p.block_rows();
    v.block_cols = p.block_cols();
  }
  return v;
}

Result<ExpertWeights> ContainerReader::expert_weights(int64_t layer, int64_t expert,
                                                      const uint8_t* raw_blob) const {
  MOESTREAM_ASSIGN_OR_RETURN(const fb::ExpertBlob* b, impl_->blob(layer, expert));
  if (raw_blob == nullptr) return invalid_argument("expert_weights: null blob");
  const auto& names = impl_->expert_names[layer][expert];
  return ExpertWeights{impl_->part_view(b->gate(), raw_blob, names[0]),
                       impl_->part_view(b->up(), raw_blob, names[1]),
                       impl_->part_view(b->down(), raw_blob, names[2])};
}

Result<ExpertWeights> ContainerReader::mapped_expert_weights(int64_t layer, int64_t expert) const {
  MOESTREAM_ASSIGN_OR_RETURN(const fb::ExpertBlob* b, impl_->blob(layer, expert));
  if (b->compression() != fb::Compression::None) {
    return unsupported(impl_->path + ": expert " + std::to_string(expert) + " of layer " +
                       std::to_string(layer) + " is compressed; decompress it into a buffer first");
  }
  return expert_weights(layer, expert, impl_->file.data() + b->offset());
}

std::string_view ContainerReader::tokenizer_json() const { return fb_string(impl_->header->tokenizer_json()); }
std::string_view ContainerReader::tokenizer_config_json() const {
  return fb_string(impl_->header->tokenizer_config_json());
}
std::string_view ContainerReader::config_json() const { return fb_string(impl_->header->config_json()); }

uint64_t ContainerReader::checksummed_bytes() const {
  uint64_t total = 0;
  for (const fb::Tensor* t : *impl_->header->tensors()) total += t->size() + t->scale_size();
  for (const fb::ExpertLayer* layer : impl_->layers) {
    if (!layer) continue;
    for (const fb::ExpertBlob* b : *layer->experts()) total += b->stored_size();
  }
  return total;
}

Status ContainerReader::verify_all_checksums() const { return verify_all_checksums(nullptr); }

Status ContainerReader::verify_all_checksums(const std::function<void(uint64_t)>& progress) const {
  const Impl& m = *impl_;
  const uint8_t* base = m.file.data();
  uint64_t done = 0;
  for (const fb::Tensor* t : *m.header->tensors()) {
    if (xxh3_64(base + t->offset(), t->size()) != t->checksum()) {
      return m.corrupt_at("tensor \"" + t->name()->str() + "\": checksum mismatch (data damaged)");
    }
    if (t->scale_size() && xxh3_64(base + t->scale_offset(), t->scale_size()) != t->scale_checksum()) {
      return m.corrupt_at("tensor \"" + t->name()->str() + "\": scale checksum mismatch (scales damaged)");
    }
    done += t->size() + t->scale_size();
    release_mapped_range(m.file, t->offset(), t->size());
    if (progress) progress(done);
  }
  std::vector<uint8_t> scratch;
  for (size_t l = 0; l < m.layers.size(); ++l) {
    if (!m.layers[l]) continue;
    for (uint32_t e = 0; e < m.layers[l]->experts()->size(); ++e) {
      const fb::ExpertBlob* b = m.layers[l]->experts()->Get(e);
      MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo info, expert_blob(static_cast<int64_t>(l), e));
      MOESTREAM_TRY(verify_expert_blob(info, base + b->offset(), m.path));
      if (info.compression != BlobCompression::kNone) {
        scratch.resize(info.raw_size);
        MOESTREAM_TRY(decode_expert_blob(info, base + b->offset(), scratch.data(), m.path));
      }
      done += b->stored_size();
      release_mapped_range(m.file, b->offset(), b->stored_size());
      if (progress) progress(done);
    }
  }
  return ok_status();
}

Status ContainerReader::verify_tensor_checksums() const { return verify_tensor_checksums(nullptr); }

Status ContainerReader::verify_tensor_checksums(const std::function<bool(std::string_view)>& release) const {
  const Impl& m = *impl_;
  const uint8_t* base = m.file.data();
  // A range to hand back is hashed in pieces, each released as soon as it is read, so the
  // check never holds more than a piece of it (a 1.8 GB embedding table would otherwise sit
  // in RSS until its hash is done).
  constexpr uint64_t kPiece = 8u << 20;
  const auto hash = [&](uint64_t offset, uint64_t size, bool drop) {
    if (!drop) return xxh3_64(base + offset, size);
    Xxh3Stream stream;
    for (uint64_t done = 0; done < size; done += kPiece) {
      const uint64_t n = std::min(kPiece, size - done);
      stream.update(base + offset + done, n);
      release_mapped_range(m.file, offset + done, n);
    }
    return stream.digest();
  };
  for (const fb::Tensor* t : *m.header->tensors()) {
    const bool drop = release && release(t->name()->string_view());
    if (hash(t->offset(), t->size(), drop) != t->checksum()) {
      return m.corrupt_at("tensor \"" + t->name()->str() + "\": checksum mismatch (data damaged)");
    }
    if (t->scale_size() && hash(t->scale_offset(), t->scale_size(), drop) != t->scale_checksum()) {
      return m.corrupt_at("tensor \"" + t->name()->str() + "\": scale checksum mismatch (scales damaged)");
    }
  }
  return ok_status();
}

Status ContainerReader::verify_expert_checksum(int64_t layer, int64_t expert) const {
  MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo info, expert_blob(layer, expert));
  return verify_expert_blob(info, impl_->file.data() + info.offset, impl_->path);
}

uint64_t ContainerReader::tensor_bytes() const {
  uint64_t total = 0;
  for (const fb::Tensor* t : *impl_->header->tensors()) total += t->size() + t->scale_size();
  return total;
}

}  // namespace moestream
