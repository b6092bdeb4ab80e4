#include "interop/hf_converter.h"

#include <algorithm>
#include <map>
#include <set>

#include "format/embedded_tokenizer.h"
#include "interop/hf_checkpoint.h"
#include "format/model_tensors.h"
#include "format/scale_encoding.h"
#include "platform/aligned_buffer.h"
#include "platform/clock.h"
#include "platform/progress_bar.h"

namespace moestream {

namespace {

constexpr uint64_t kCopyChunk = 32 << 20;

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

bool is_float(DType d) { return d == DType::kF32 || d == DType::kBF16 || d == DType::kF16; }

// A source tensor with its optional FP8 scale tensor, checked against the config.
struct SourceTensor {
  const HfTensorRef* weight = nullptr;
  const HfTensorRef* scale = nullptr;  // weight_scale_inv of an F8_E4M3 weight
};

class Converter {
 public:
  explicit Converter(const HfCheckpoint& ck) : ck_(ck) {}

  Status check_and_plan();
  Status write(ContainerWriter& writer, ProgressBar& bar);
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  Status where(const HfTensorRef& ref, const std::string& what) const {
    return invalid_argument(ck_.dir() + "/" + ref.shard_name + ": tensor \"" + ref.entry->name + "\" " + what);
  }
  Status check_scale(const HfTensorRef& weight, const HfTensorRef& scale) const;
  Result<ScaleFormat> read_scales(const HfTensorRef& scale, std::vector<uint8_t>* encoded);

  const HfCheckpoint& ck_;
  const ModelConfig& cfg() const { return ck_.config(); }
  bool fp8() const { return cfg().quant_method == "fp8"; }

  std::vector<SourceTensor> plain_;  // non-expert tensors, in shard/offset order
  std::map<std::pair<int64_t, int64_t>, std::array<SourceTensor, 3>> experts_;
  uint64_t total_bytes_ = 0;
  std::vector<uint8_t> buffer_;
  std::vector<float> scale_floats_;
};

Status Converter::check_scale(const HfTensorRef& weight, const HfTensorRef& scale) const {
  const auto& ws = weight.entry->shape;
  std::vector<int64_t> expected = {(ws[0] + cfg().weight_block_rows - 1) / cfg().weight_block_rows,
                                   (ws[1] + cfg().weight_block_cols - 1) / cfg().weight_block_cols};
  if (scale.entry->dtype != DType::kF32) return where(scale, "must be F32, is " + std::string(dtype_name(scale.entry->dtype)));
  if (scale.entry->shape != expected) {
    return where(scale, "has shape " + shape_string(scale.entry->shape) + " but the weight's 128x128 block grid is " +
                            shape_string(expected));
  }
  return ok_status();
}

Status Converter::check_and_plan() {
  std::set<std::string> used;
  for (const TensorSpec& spec : deepseek_v3_tensor_specs(cfg())) {
    const HfTensorRef* ref = ck_.find(spec.name);
    if (!ref) {
      return not_found(ck_.dir() + ": tensor \"" + spec.name + "\" is missing (config.json implies it)");
    }
    if (ref->entry->shape != spec.shape) {
      return where(*ref, "has shape " + shape_string(ref->entry->shape) + " but config.json implies " +
                             shape_string(spec.shape));
    }
    SourceTensor st{ref, nullptr};
    const DType dtype = ref->entry->dtype;
    if (spec.quantized_in_fp8() && fp8()) {
      if (dtype != DType::kF8E4M3) {
        return where(*ref, "is " + std::string(dtype_name(dtype)) +
                               " but config.json says the checkpoint is FP8 (quantization_config)");
      }
      st.scale = ck_.find(spec.name + std::string(kScaleSuffix));
      if (!st.scale) return where(*ref, "has no " + spec.name + std::string(kScaleSuffix));
      MOESTREAM_TRY(check_scale(*ref, *st.scale));
      used.insert(st.scale->entry->name);
    } else if (dtype == DType::kF8E4M3) {
      return where(*ref, fp8() ? "is F8_E4M3 but DeepSeek-V3 keeps this tensor in BF16"
                               : "is F8_E4M3 but config.json has no FP8 quantization_config");
    } else if (!is_float(dtype)) {
      return where(*ref, "has dtype " + std::string(dtype_name(dtype)) + ", expected a float type");
    }
    used.insert(spec.name);
    total_bytes_ += ref->entry->size + (st.scale ? st.scale->entry->size : 0);
    if (spec.expert >= 0) {
      experts_[{spec.layer, spec.expert}][spec.expert_part] = st;
    } else {
      plain_.push_back(st);
    }
  }
  // Tensors the spec does not name (a future variant's extras) are kept verbatim.
  for (const auto& [name, ref] : ck_.tensors()) {
    if (used.count(name)) continue;
    if (parse_expert_tensor_name(name)) {
      return where(ref, "is a routed expert that config.json does not account for");
    }
    plain_.push_back({&ref, nullptr});
    total_bytes_ += ref.entry->size;
  }
  std::sort(plain_.begin(), plain_.end(), [](const SourceTensor& a, const SourceTensor& b) {
    return std::tie(a.weight->shard_name, a.weight->entry->offset) <
           std::tie(b.weight->shard_name, b.weight->entry->offset);
  });
  return ok_status();
}

Result<ScaleFormat> Converter::read_scales(const HfTensorRef& scale, std::vector<uint8_t>* encoded) {
  const uint64_t count = scale.entry->numel();
  scale_floats_.resize(count);
  MOESTREAM_TRY(scale.shard->read(*scale.entry, scale_floats_.data()));
  ScaleFormat format = choose_scale_format(scale_floats_.data(), count, cfg().scale_fmt == "ue8m0");
  encoded->resize(count * (format == ScaleFormat::kUE8M0 ? 1 : 4));
  encode_scales(scale_floats_.data(), count, format, encoded->data());
  return format;
}

Status Converter::write(ContainerWriter& writer, ProgressBar& bar) {
  std::vector<uint8_t> scales;
  for (const SourceTensor& st : plain_) {
    const SafetensorsEntry& e = *st.weight->entry;
    bar.set_detail(e.name);
    TensorRecord rec;
    rec.name = e.name;
    rec.dtype = e.dtype;
    rec.shape = e.shape;
    rec.size = e.size;
    rec.source_file = st.weight->shard_name;
    rec.block_rows = static_cast<uint32_t>(cfg().weight_block_rows);
    rec.block_cols = static_cast<uint32_t>(cfg().weight_block_cols);
    if (st.scale) {
      MOESTREAM_ASSIGN_OR_RETURN(rec.scale_format, read_scales(*st.scale, &scales));
      rec.scales = scales.data();
      rec.scale_size = scales.size();
    }
    // Copied in chunks: a 1.9 GB embedding never sits in memory whole.
    MOESTREAM_TRY(writer.begin_tensor(rec));
    for (uint64_t done = 0; done < e.size;) {
      const uint64_t n = std::min<uint64_t>(kCopyChunk, e.size - done);
      buffer_.resize(n);
      MOESTREAM_TRY(st.weight->shard->read_part(e, done, buffer_.data(), n));
      MOESTREAM_TRY(writer.append_tensor_data(buffer_.data(), n));
      done += n;
      bar.advance(n);
    }
    MOESTREAM_TRY(writer.end_tensor(rec.scales, rec.scale_size));
    bar.advance(st.scale ? st.scale->entry->size : 0);
  }
  AlignedBuffer blob;
  std::array<std::vector<uint8_t>, 3> part_scales;
  for (const auto& [key, parts] : experts_) {
    const auto [layer, expert] = key;
    bar.set_detail("layer " + std::to_string(layer) + " expert " + std::to_string(expert));
    std::array<ExpertPartLayout, 3> layout_parts;
    std::array<std::string, 3> sources;
    uint64_t bytes = 0;
    for (int p = 0; p < 3; ++p) {
      const SafetensorsEntry& e = *parts[p].weight->entry;
      ExpertPartLayout& lp = layout_parts[p];
      lp.dtype = e.dtype;
      lp.rows = e.shape[0];
      lp.cols = e.shape[1];
      lp.block_rows = static_cast<uint32_t>(cfg().weight_block_rows);
      lp.block_cols = static_cast<uint32_t>(cfg().weight_block_cols);
      lp.scale_format = ScaleFormat::kNone;
      if (parts[p].scale) {
        MOESTREAM_ASSIGN_OR_RETURN(lp.scale_format, read_scales(*parts[p].scale, &part_scales[p]));
        bytes += parts[p].scale->entry->size;
      }
      sources[p] = parts[p].weight->shard_name;
      bytes += e.size;
    }
    const ExpertBlobLayout layout = layout_expert_blob(layout_parts);
    if (blob.size() != layout.raw_size) {
      MOESTREAM_ASSIGN_OR_RETURN(blob, AlignedBuffer::allocate(layout.raw_size, kPageSize, false, true));
    } else {
      std::fill(blob.data(), blob.data() + blob.size(), uint8_t{0});
    }
    for (int p = 0; p < 3; ++p) {
      const ExpertPartLayout& lp = layout.parts[p];
      MOESTREAM_TRY(parts[p].weight->shard->read(*parts[p].weight->entry, blob.data() + lp.data_offset));
      if (lp.scale_size) std::copy(part_scales[p].begin(), part_scales[p].end(), blob.data() + lp.scale_offset);
    }
    MOESTREAM_TRY(writer.add_expert(layer, expert, layout, blob.data(), sources));
    bar.advance(bytes);
  }
  return ok_status();
}

}  // namespace

Result<ConvertSummary> convert_hf_checkpoint(const std::string& hf_dir, const std::string& out_path,
                                             const ConvertOptions& options) {
  Stopwatch watch;
  MOESTREAM_ASSIGN_OR_RETURN(auto ck, HfCheckpoint::open(hf_dir));
  Converter converter(*ck);
  MOESTREAM_TRY(converter.check_and_plan());
  // The tokenizer is settled before any tensor is written: one that defines more ids than the
  // model's vocabulary is refused now, not after the whole checkpoint was converted.
  TokenizerFiles tokenizer{ck->tokenizer_json(), ck->tokenizer_config_json()};
  const bool builtin_tokenizer = tokenizer.tokenizer_json.empty();
  if (builtin_tokenizer) {
    MOESTREAM_ASSIGN_OR_RETURN(TokenizerFiles fitted, embedded_tokenizer_for_vocab(ck->config().vocab_size));
    tokenizer.tokenizer_json = std::move(fitted.tokenizer_json);
    if (tokenizer.tokenizer_config_json.empty()) tokenizer.tokenizer_config_json = std::move(fitted.tokenizer_config_json);
  }
  MOESTREAM_TRY(check_tokenizer_fits(tokenizer.tokenizer_json, ck->config().vocab_size).with_context(hf_dir));
  MOESTREAM_ASSIGN_OR_RETURN(auto writer, ContainerWriter::create(out_path, options.writer));
  ProgressBar bar("convert", converter.total_bytes(), "B", options.progress);
  Status s = converter.write(*writer, bar);
  ConvertSummary summary;
  ContainerMetadata md;
  if (s.ok()) {
    md.config = ck->config();
    md.config_json = ck->config_json();
    md.tokenizer_json = std::move(tokenizer.tokenizer_json);
    md.tokenizer_config_json = std::move(tokenizer.tokenizer_config_json);
    if (builtin_tokenizer) {
      md.notes = "tokenizer: the built-in DeepSeek-V3 tokenizer (the checkpoint has no tokenizer.json)";
      summary.embedded_tokenizer = true;
    }
    md.chat_template = ck->chat_template();
    md.extra_files = ck->extra_files();
    md.tool = "moestream convert";
    md.source = hf_dir;
    md.source_files = ck->shard_files();
    md.command_line = options.command_line;
    s = writer->finish(md);
  }
  if (!s.ok()) {
    writer->abandon();
    return s;
  }
  summary.stats = writer->stats();
  summary.source_bytes = converter.total_bytes();
  summary.seconds = watch.elapsed_seconds();
  return summary;
}

}  // namespace moestream
