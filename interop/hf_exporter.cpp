#include "interop/hf_exporter.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "format/container_layout.h"
#include "format/model_tensors.h"
#include "format/moestream_generated.h"
#include "format/expert_blob_codec.h"
#include "platform/signal_cleanup.h"
#include "platform/page_release.h"
#include "interop/safetensors_file.h"
#include "format/scale_encoding.h"
#include "platform/clock.h"
#include "platform/file.h"
#include "platform/progress_bar.h"

namespace moestream {

namespace {

// One output tensor and where its bytes come from.
struct ExportTensor {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t size = 0;
  bool is_scale = false;                // weight_scale_inv recreated from stored scales
  const fb::Tensor* tensor = nullptr;   // non-expert source
  int64_t layer = -1, expert = -1;      // expert source
  int part = -1;
  std::string shard;
};

class Exporter {
 public:
  Exporter(const ContainerReader& r, const ExportOptions& o) : reader_(r), options_(o) {}

  void plan();
  Status write(const std::string& dir, ExportSummary* summary);

 private:
  Status fill(const ExportTensor& t, AtomicFileWriter& out);
  Status write_files(const std::string& dir, ExportSummary* summary);
  Result<const uint8_t*> raw_blob(int64_t layer, int64_t expert);

  const ContainerReader& reader_;
  const ExportOptions& options_;
  std::vector<ExportTensor> tensors_;
  std::vector<uint8_t> scratch_;
  std::vector<float> floats_;
  std::vector<uint8_t> blob_;
  std::pair<int64_t, int64_t> blob_key_{-1, -1};
};

void Exporter::plan() {
  const fb::Header& h = reader_.header();
  for (const fb::Tensor* t : *h.tensors()) {
    ExportTensor e;
    e.name = t->name()->str();
    e.dtype = static_cast<DType>(t->dtype());
    e.shape.assign(t->shape()->begin(), t->shape()->end());
    e.size = t->size();
    e.tensor = t;
    e.shard = t->source_file() ? t->source_file()->str() : "";
    tensors_.push_back(e);
    if (t->scale_format() != fb::ScaleFormat::None) {
      e.name += kScaleSuffix;
      e.dtype = DType::kF32;
      e.shape = {(e.shape[0] + t->block_rows() - 1) / t->block_rows(),
                 (e.shape[1] + t->block_cols() - 1) / t->block_cols()};
      e.size = static_cast<uint64_t>(e.shape[0] * e.shape[1]) * 4;
      e.is_scale = true;
      tensors_.push_back(e);
    }
  }
  for (int64_t l : reader_.expert_layers()) {
    const fb::ExpertLayer* layer = nullptr;
    for (const fb::ExpertLayer* x : *h.expert_layers()) {
      if (x->layer() == l) layer = x;
    }
    for (uint32_t ei = 0; ei < layer->experts()->size(); ++ei) {
      const fb::ExpertBlob* b = layer->experts()->Get(ei);
      const fb::ExpertPart* parts[3] = {&b->gate(), &b->up(), &b->down()};
      for (int p = 0; p < 3; ++p) {
        ExportTensor e;
        e.name = expert_weight_name(l, ei, p);
        e.dtype = static_cast<DType>(parts[p]->dtype());
        e.shape = {parts[p]->rows(), parts[p]->cols()};
        e.size = parts[p]->data_size();
        e.layer = l;
        e.expert = ei;
        e.part = p;
        if (layer->source_files()) e.shard = layer->source_files()->Get(3 * ei + p)->str();
        tensors_.push_back(e);
        if (parts[p]->scale_format() != fb::ScaleFormat::None) {
          e.name += kScaleSuffix;
          e.dtype = DType::kF32;
          e.shape = {static_cast<int64_t>((parts[p]->rows() + parts[p]->block_rows() - 1) / parts[p]->block_rows()),
                     static_cast<int64_t>((parts[p]->cols() + parts[p]->block_cols() - 1) / parts[p]->block_cols())};
          e.size = static_cast<uint64_t>(e.shape[0] * e.shape[1]) * 4;
          e.is_scale = true;
          tensors_.push_back(e);
        }
      }
    }
  }
  // Without a recorded source shard for every tensor, pack them into numbered shards.
  bool all_sourced = true;
  for (const auto& t : tensors_) all_sourced &= !t.shard.empty();
  if (all_sourced) return;
  std::vector<size_t> shard_of(tensors_.size());
  size_t shard = 0;
  uint64_t in_shard = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    if (in_shard > 0 && in_shard + tensors_[i].size > options_.max_shard_bytes) {
      ++shard;
      in_shard = 0;
    }
    shard_of[i] = shard;
    in_shard += tensors_[i].size;
  }
  const size_t count = shard + 1;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%06zu.safetensors", shard_of[i] + 1, count);
    tensors_[i].shard = name;
  }
}

Result<const uint8_t*> Exporter::raw_blob(int64_t layer, int64_t expert) {
  MOESTREAM_ASSIGN_OR_RETURN(ExpertBlobInfo info, reader_.expert_blob(layer, expert));
  const uint8_t* stored = reader_.file().data() + info.offset;
  if (info.compression == BlobCompression::kNone) return stored;
  if (blob_key_ != std::make_pair(layer, expert)) {
    blob_.resize(info.raw_size);
    MOESTREAM_TRY(decode_expert_blob(info, stored, blob_.data(), reader_.path()));
    blob_key_ = {layer, expert};
  }
  return blob_.data();
}

Status Exporter::fill(const ExportTensor& t, AtomicFileWriter& out) {
  const uint8_t* data = nullptr;
  uint64_t stored_size = 0;
  ScaleFormat format = ScaleFormat::kNone;
  if (t.tensor) {
    const uint8_t* base = reader_.file().data();
    data = base + (t.is_scale ? t.tensor->scale_offset() : t.tensor->offset());
    stored_size = t.is_scale ? t.tensor->scale_size() : t.tensor->size();
    format = static_cast<ScaleFormat>(t.tensor->scale_format());
  } else {
    MOESTREAM_ASSIGN_OR_RETURN(const uint8_t* blob, raw_blob(t.layer, t.expert));
    MOESTREAM_ASSIGN_OR_RETURN(ExpertWeights w, reader_.expert_weights(t.layer, t.expert, blob));
    const TensorView& v = t.part == 0 ? w.gate : t.part == 1 ? w.up : w.down;
    format = v.scale_format;
    if (t.is_scale) {
      data = static_cast<const uint8_t*>(v.scales);
      stored_size = static_cast<uint64_t>(v.scale_rows() * v.scale_cols()) * (format == ScaleFormat::kUE8M0 ? 1 : 4);
    } else {
      data = static_cast<const uint8_t*>(v.data);
      stored_size = v.data_bytes;
    }
  }
  if (!t.is_scale || format == ScaleFormat::kF32) {
    MOESTREAM_TRY(out.write(data, stored_size));
    const uint8_t* base = reader_.file().data();
    if (data >= base && data < base + reader_.file().size()) {
      release_mapped_range(reader_.file(), static_cast<uint64_t>(data - base), stored_size);
    }
    return ok_status();
  }
  floats_.resize(t.size / 4);
  decode_scales(data, floats_.size(), format, floats_.data());
  return out.write(floats_.data(), t.size);
}

// Everything is written into DIR.partial next to DIR and moved in only when every file is
// complete, so a failed export (full disk, corrupt container) leaves DIR as it was: no half
// set of shards, no replaced files; DIR itself is removed again if this call created it.
Status Exporter::write(const std::string& dir, ExportSummary* summary) {
  namespace fs = std::filesystem;
  fs::path target(dir);
  if (!target.has_filename()) target = target.parent_path();
  fs::path staging = target;
  staging += ".partial";
  std::error_code ec;
  const bool existed = fs::exists(target, ec);
  fs::remove_all(staging, ec);
  // SIGINT / SIGTERM leave no DIR.partial: registered before it exists, so a signal right
  // after its creation still finds it.
  RemoveOnSignal remove_staging(staging.string());
  fs::create_directories(staging, ec);
  if (ec) return io_error("cannot create " + staging.string() + ": " + ec.message());
  ExportSummary staged;
  Status status = write_files(staging.string(), &staged);
  if (status.ok()) {
    fs::create_directories(target, ec);
    if (ec) status = io_error("cannot create " + target.string() + ": " + ec.message());
  }
  if (status.ok()) {
    std::vector<fs::path> files;  // listed first: no renaming while the directory is read
    for (const auto& entry : fs::directory_iterator(staging, ec)) files.push_back(entry.path());
    if (ec) status = io_error("cannot list " + staging.string() + ": " + ec.message());
    for (size_t i = 0; status.ok() && i < files.size(); ++i) {
      fs::rename(files[i], target / files[i].filename(), ec);
      if (ec) status = io_error("cannot move " + files[i].string() + " into " + target.string() + ": " + ec.message());
    }
  }
  fs::remove_all(staging, ec);
  if (!status.ok()) {
    if (!existed) fs::remove(target, ec);  // only if still empty
    return status;
  }
  *summary = staged;
  return ok_status();
}

Status Exporter::write_files(const std::string& dir, ExportSummary* summary) {
  std::map<std::string, std::vector<const ExportTensor*>> shards;
  uint64_t total = 0;
  for (const auto& t : tensors_) {
    shards[t.shard].push_back(&t);
    total += t.size;
  }
  ProgressBar bar("export-hf", total, "B", options_.progress);
  nlohmann::json weight_map = nlohmann::json::object();
  for (auto& [shard, list] : shards) {
    std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->name < b->name; });
    std::vector<SafetensorsEntry> entries;
    uint64_t offset = 0;
    for (const ExportTensor* t : list) {
      entries.push_back({t->name, t->dtype, t->shape, offset, t->size});
      offset += t->size;
      weight_map[t->name] = shard;
    }
    const std::string path = dir + "/" + shard;
    MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(path));
    const std::string header = encode_safetensors_header(entries, {{"format", "pt"}});
    MOESTREAM_TRY(out.write(header.data(), header.size()));
    for (const ExportTensor* t : list) {
      bar.set_detail(t->name);
      MOESTREAM_TRY(fill(*t, out).with_context(path + ": tensor " + t->name));
      bar.advance(t->size);
    }
    MOESTREAM_TRY(out.commit());
    summary->shards++;
  }
  summary->tensors = tensors_.size();
  summary->bytes = total;
  nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::map<std::string, std::string> files;
  files["model.safetensors.index.json"] = index.dump(2) + "\n";
  files["config.json"] = std::string(reader_.config_json());
  if (!reader_.tokenizer_json().empty()) files["tokenizer.json"] = std::string(reader_.tokenizer_json());
  if (!reader_.tokenizer_config_json().empty()) {
    files["tokenizer_config.json"] = std::string(reader_.tokenizer_config_json());
  }
  const fb::Header& h = reader_.header();
  if (h.chat_template()) files["chat_template.jinja"] = h.chat_template()->str();
  if (h.extra_files()) {
    for (const fb::SourceFileText* f : *h.extra_files()) {
      if (!f->name() || !f->text()) continue;
      const std::string name = f->name()->str();
      if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') continue;
      files[name] = f->text()->str();
    }
  }
  for (const auto& [name, text] : files) {
    MOESTREAM_ASSIGN_OR_RETURN(AtomicFileWriter out, AtomicFileWriter::create(dir + "/" + name));
    MOESTREAM_TRY(out.write(text.data(), text.size()));
    MOESTREAM_TRY(out.commit());
  }
  return ok_status();
}

}  // namespace

Result<ExportSummary> export_hf_checkpoint(const ContainerReader& reader, const std::string& out_dir,
                                           const ExportOptions& options) {
  Stopwatch watch;
  Exporter exporter(reader, options);
  exporter.plan();
  ExportSummary summary;
  MOESTREAM_TRY(exporter.write(out_dir, &summary));
  summary.seconds = watch.elapsed_seconds();
  return summary;
}

}  // namespace moestream
