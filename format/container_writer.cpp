#include "format/container_writer.h"

#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "format/checksum.h"
#include "format/embedded_tokenizer.h"
#include "format/model_config_json.h"
#include "format/model_config_fb.h"
#include "format/moestream_generated.h"
#include "platform/aligned_buffer.h"
#include "platform/file.h"

namespace moestream {

namespace {

struct PendingTensor {
  TensorRecord meta;  // data pointers cleared
  uint64_t offset = 0;
  uint64_t checksum = 0;
  uint64_t scale_offset = 0;
  uint64_t scale_checksum = 0;
};

struct PendingExpert {
  bool present = false;
  fb::ExpertBlob blob;
  std::array<std::string, 3> source_files;
};

fb::ExpertPart to_fb_part(const ExpertPartLayout& p) {
  return fb::ExpertPart(p.rows, p.cols, p.data_offset, p.data_size, p.scale_offset, p.scale_size,
                        p.block_rows, p.block_cols, static_cast<fb::DType>(p.dtype),
                        static_cast<fb::ScaleFormat>(p.scale_format));
}

}  // namespace

struct ContainerWriter::Impl {
  ContainerWriterOptions options;
  AtomicFileWriter out;
  std::vector<PendingTensor> tensors;
  std::set<std::string> names;
  std::map<int64_t, std::vector<PendingExpert>> experts;
  ContainerWriteStats stats;
  ZSTD_CCtx* zstd = nullptr;
  std::vector<uint8_t> compressed;
  bool finished = false;
  bool open_tensor = false;
  uint64_t tensor_written = 0;
  std::unique_ptr<Xxh3Stream> tensor_hash;

  ~Impl() {
    if (zstd) ZSTD_freeCCtx(zstd);
  }
};

ContainerWriter::ContainerWriter() : impl_(std::make_unique<Impl>()) {}
ContainerWriter::~ContainerWriter() = default;

Result<std::unique_ptr<ContainerWriter>> ContainerWriter::create(const std::string& path,
                                                                 const ContainerWriterOptions& options) {
  auto w = std::unique_ptr<ContainerWriter>(new ContainerWriter());
  w->impl_->options = options;
  MOESTREAM_ASSIGN_OR_RETURN(w->impl_->out, AtomicFileWriter::create(path));
  std::array<uint8_t, kPreambleSize> zeros{};  // patched in finish()
  MOESTREAM_TRY(w->impl_->out.write(zeros.data(), zeros.size()));
  if (options.compression == BlobCompression::kZstd) {
    w->impl_->zstd = ZSTD_createCCtx();
    if (!w->impl_->zstd) return out_of_memory("cannot create a zstd context");
    ZSTD_CCtx_setParameter(w->impl_->zstd, ZSTD_c_compressionLevel, options.zstd_level);
  }
  return w;
}

const ContainerWriteStats& ContainerWriter::stats() const { return impl_->stats; }
const std::string& ContainerWriter::path() const { return impl_->out.path(); }
void ContainerWriter::abandon() { impl_->out.abandon(); }

Status ContainerWriter::add_tensor(const TensorRecord& t) {
  MOESTREAM_TRY(begin_tensor(t));
  MOESTREAM_TRY(append_tensor_data(t.data, t.size));
  return end_tensor(t.scales, t.scale_size);
}

Status ContainerWriter::begin_tensor(const TensorRecord& t) {
  Impl& m = *impl_;
  const std::string context = m.out.partial_path() + ": tensor " + t.name;
  if (m.open_tensor) return internal_error(context + ": the previous tensor was not ended");
  if (!m.names.insert(t.name).second) return invalid_argument(context + " added twice");
  if (t.shape.size() > 4) return invalid_argument(context + " has more than 4 dimensions");
  uint64_t numel = 1;
  for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
  if (numel * dtype_size(t.dtype) != t.size) {
    return internal_error(context + ": size does not match shape and dtype");
  }
  if (t.scale_format != ScaleFormat::kNone) {
    if (t.dtype != DType::kF8E4M3 || t.shape.size() != 2) {
      return internal_error(context + ": block scales need a 2-D F8_E4M3 weight");
    }
    if (t.scale_size != scale_count(t.shape[0], t.shape[1], t.block_rows, t.block_cols) *
                            scale_format_size(t.scale_format)) {
      return internal_error(context + ": scale size does not match the block grid");
    }
  }
  PendingTensor p;
  p.meta = t;
  p.meta.data = nullptr;
  p.meta.scales = nullptr;
  MOESTREAM_TRY(m.out.pad_to(kTensorAlignment).with_context(context));
  p.offset = m.out.position();
  m.tensors.push_back(std::move(p));
  m.open_tensor = true;
  m.tensor_written = 0;
  m.tensor_hash = std::make_unique<Xxh3Stream>();
  return ok_status();
}

Status ContainerWriter::append_tensor_data(const void* data, uint64_t size) {
  Impl& m = *impl_;
  if (!m.open_tensor) return internal_error("append_tensor_data without begin_tensor");
  PendingTensor& p = m.tensors.back();
  if (m.tensor_written + size > p.meta.size) {
    return internal_error("tensor " + p.meta.name + ": more data than its shape holds");
  }
  m.tensor_hash->update(data, size);
  MOESTREAM_TRY(m.out.write(data, size).with_context("tensor " + p.meta.name));
  m.tensor_written += size;
  return ok_status();
}

Status ContainerWriter::end_tensor(const void* scales, uint64_t scale_size) {
  Impl& m = *impl_;
  if (!m.open_tensor) return internal_error("end_tensor without begin_tensor");
  PendingTensor& p = m.tensors.back();
  const std::string context = m.out.partial_path() + ": tensor " + p.meta.name;
  if (m.tensor_written != p.meta.size) return internal_error(context + ": data incomplete");
  if (scale_size != p.meta.scale_size) return internal_error(context + ": wrong scale size");
  p.checksum = m.tensor_hash->digest();
  if (p.meta.scale_format != ScaleFormat::kNone) {
    MOESTREAM_TRY(m.out.pad_to(kTensorAlignment).with_context(context));
    p.scale_offset = m.out.position();
    p.scale_checksum = xxh3_64(scales, scale_size);
    MOESTREAM_TRY(m.out.write(scales, scale_size).with_context("tensor " + p.meta.name + " (scales)"));
  }
  m.open_tensor = false;
  m.stats.tensors++;
  m.stats.tensor_bytes += p.meta.size + p.meta.scale_size;
  return ok_status();
}

Status ContainerWriter::add_expert(int64_t layer, int64_t expert, const ExpertBlobLayout& layout,
                                   const uint8_t* raw_blob, const std::array<std::string, 3>& source_files) {
  Impl& m = *impl_;
  const std::string context = "expert " + std::to_string(expert) + " of layer " + std::to_string(layer) +
                              " (model.layers." + std::to_string(layer) + ".mlp.experts." +
                              std::to_string(expert) + ")";
  if (m.open_tensor) return internal_error(context + ": a tensor is still open");
  if (layer < 0 || expert < 0 || expert > (1 << 20)) return invalid_argument(context + ": bad index");
  auto& slots = m.experts[layer];
  if (static_cast<size_t>(expert) >= slots.size()) slots.resize(static_cast<size_t>(expert) + 1);
  if (slots[expert].present) return invalid_argument(context + " added twice");
  MOESTREAM_TRY(m.out.pad_to(kBlobAlignment).with_context(context));
  const uint64_t offset = m.out.position();
  const uint8_t* stored = raw_blob;
  uint64_t stored_size = layout.raw_size;
  BlobCompression compression = BlobCompression::kNone;
  if (m.zstd) {
    m.compressed.resize(ZSTD_compressBound(layout.raw_size));
    size_t n = ZSTD_compress2(m.zstd, m.compressed.data(), m.compressed.size(), raw_blob, layout.raw_size);
    if (ZSTD_isError(n)) return internal_error(context + ": zstd: " + ZSTD_getErrorName(n));
    if (align_up(n, kBlobAlignment) < layout.raw_size) {  // keep it only when it saves a page
      stored = m.compressed.data();
      stored_size = n;
      compression = BlobCompression::kZstd;
    }
  }
  const uint64_t checksum = xxh3_64(stored, stored_size);
  MOESTREAM_TRY(m.out.write(stored, stored_size).with_context(context));
  MOESTREAM_TRY(m.out.pad_to(kBlobAlignment).with_context(context));
  PendingExpert& pe = slots[expert];
  pe.present = true;
  pe.source_files = source_files;
  pe.blob = fb::ExpertBlob(offset, stored_size, layout.raw_size, checksum, to_fb_part(layout.parts[0]),
                           to_fb_part(layout.parts[1]), to_fb_part(layout.parts[2]),
                           static_cast<fb::Compression>(compression));
  m.stats.experts++;
  m.stats.expert_raw_bytes += layout.raw_size;
  m.stats.expert_stored_bytes += align_up(stored_size, kBlobAlignment);
  return ok_status();
}

Status ContainerWriter::finish(const ContainerMetadata& md) {
  Impl& m = *impl_;
  const std::string& file = m.out.partial_path();
  if (m.open_tensor) return internal_error(file + ": finish() with a tensor still open");
  // What `run` would refuse is refused here, when written: the reader's config validation
  // (it includes the router's rule for num_experts_per_tok) and a tokenizer within the vocabulary.
  MOESTREAM_TRY(validate_model_config(md.config, file + ": model config"));
  MOESTREAM_TRY(check_tokenizer_fits(md.tokenizer_json, md.config.vocab_size).with_context(file));
  // Completeness: the expert table must be dense for exactly the MoE layers.
  for (int64_t l = 0; l < md.config.total_layers(); ++l) {
    const bool moe = md.config.is_moe_layer(l);
    auto it = m.experts.find(l);
    if (!moe && it != m.experts.end()) {
      return invalid_argument(file + ": layer " + std::to_string(l) + " is dense but has routed experts");
    }
    if (!moe) continue;
    if (it == m.experts.end()) {
      return invalid_argument(file + ": MoE layer " + std::to_string(l) + " has no routed experts");
    }
    if (static_cast<int64_t>(it->second.size()) != md.config.n_routed_experts) {
      return invalid_argument(file + ": layer " + std::to_string(l) + " has " +
                              std::to_string(it->second.size()) + " expert slots, config says " +
                              std::to_string(md.config.n_routed_experts));
    }
    for (size_t e = 0; e < it->second.size(); ++e) {
      if (!it->second[e].present) {
        return invalid_argument(file + ": expert " + std::to_string(e) + " of layer " +
                                std::to_string(l) + " is missing");
      }
    }
  }
  for (const auto& [l, slots] : m.experts) {
    if (l >= md.config.total_layers()) {
      return invalid_argument(file + ": experts for layer " + std::to_string(l) + " beyond the model");
    }
  }

  flatbuffers::FlatBufferBuilder b(1 << 20);
  auto config = build_model_config_fb(b, md.config);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  for (const auto& t : m.tensors) {
    auto name = b.CreateString(t.meta.name);
    auto shape = b.CreateVector(t.meta.shape);
    auto source = t.meta.source_file.empty() ? 0 : b.CreateString(t.meta.source_file);
    fb::TensorBuilder tb(b);
    tb.add_name(name);
    tb.add_dtype(static_cast<fb::DType>(t.meta.dtype));
    tb.add_shape(shape);
    tb.add_offset(t.offset);
    tb.add_size(t.meta.size);
    tb.add_checksum(t.checksum);
    tb.add_scale_format(static_cast<fb::ScaleFormat>(t.meta.scale_format));
    tb.add_block_rows(t.meta.block_rows);
    tb.add_block_cols(t.meta.block_cols);
    tb.add_scale_offset(t.scale_offset);
    tb.add_scale_size(t.meta.scale_size);
    tb.add_scale_checksum(t.scale_checksum);
    if (!t.meta.source_file.empty()) tb.add_source_file(source);
    tensors.push_back(tb.Finish());
  }
  auto tensor_vec = b.CreateVectorOfSortedTables(&tensors);
  std::vector<flatbuffers::Offset<fb::ExpertLayer>> layers;
  for (const auto& [l, slots] : m.experts) {
    std::vector<fb::ExpertBlob> blobs;
    std::vector<std::string> sources;
    bool any_source = false;
    for (const auto& s : slots) {
      blobs.push_back(s.blob);
      for (const auto& f : s.source_files) {
        sources.push_back(f);
        any_source |= !f.empty();
      }
    }
    auto blob_vec = b.CreateVectorOfStructs(blobs);
    auto source_vec = any_source ? b.CreateVectorOfStrings(sources) : 0;
    layers.push_back(fb::CreateExpertLayer(b, static_cast<int32_t>(l), blob_vec, source_vec));
  }
  auto layer_vec = b.CreateVector(layers);
  std::vector<flatbuffers::Offset<fb::SourceFile>> sources;
  for (const auto& [name, size] : md.source_files) {
    sources.push_back(fb::CreateSourceFile(b, b.CreateString(name), size));
  }
  const auto now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  auto provenance = fb::CreateProvenance(b, b.CreateString(md.tool), b.CreateString(MOESTREAM_VERSION_STRING), now,
                                         b.CreateString(md.source), b.CreateVector(sources),
                                         b.CreateString(md.command_line), b.CreateString(md.notes));
  std::vector<flatbuffers::Offset<fb::SourceFileText>> extras;
  for (const auto& [name, text] : md.extra_files) {
    extras.push_back(fb::CreateSourceFileText(b, b.CreateString(name), b.CreateString(text)));
  }
  auto config_json = b.CreateString(md.config_json);
  auto tok = md.tokenizer_json.empty() ? 0 : b.CreateString(md.tokenizer_json);
  auto tok_cfg = md.tokenizer_config_json.empty() ? 0 : b.CreateString(md.tokenizer_config_json);
  auto chat = md.chat_template.empty() ? 0 : b.CreateString(md.chat_template);
  auto extra_vec = b.CreateVector(extras);
  fb::HeaderBuilder hb(b);
  hb.add_config(config);
  hb.add_config_json(config_json);
  hb.add_tensors(tensor_vec);
  hb.add_expert_layers(layer_vec);
  if (!md.tokenizer_json.empty()) hb.add_tokenizer_json(tok);
  if (!md.tokenizer_config_json.empty()) hb.add_tokenizer_config_json(tok_cfg);
  if (!md.chat_template.empty()) hb.add_chat_template(chat);
  hb.add_provenance(provenance);
  hb.add_extra_files(extra_vec);
  b.Finish(hb.Finish(), fb::HeaderIdentifier());

  MOESTREAM_TRY(m.out.pad_to(kBlobAlignment).with_context(file + ": header"));
  Preamble p;
  p.header_offset = m.out.position();
  p.header_size = b.GetSize();
  p.header_checksum = xxh3_64(b.GetBufferPointer(), b.GetSize());
  p.data_offset = kPreambleSize;
  MOESTREAM_TRY(m.out.write(b.GetBufferPointer(), b.GetSize()).with_context(file + ": header"));
  p.file_size = m.out.position();
  auto preamble = encode_preamble(p);
  MOESTREAM_TRY(m.out.write_at(preamble.data(), preamble.size(), 0).with_context(file + ": preamble"));
  MOESTREAM_TRY(m.out.commit());
  m.stats.file_size = p.file_size;
  m.finished = true;
  return ok_status();
}

}  // namespace moestream
