// `moestream inspect FILE.mst [--json]`: what a container holds.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "arg_parser.h"
#include "cli_common.h"
#include "command_registry.h"
#include "format/blob_load_benchmark.h"
#include "format/container_layout.h"
#include "format/moestream_generated.h"
#include "platform/json_limits.h"
#include "platform/progress_bar.h"

namespace moestream::cli {
namespace {

const char* scale_format_name(ScaleFormat f) {
  return f == ScaleFormat::kF32 ? "F32" : f == ScaleFormat::kUE8M0 ? "UE8M0" : "none";
}

// One expert part's place inside its raw blob (offsets relative to the blob's first byte).
nlohmann::json expert_part_json(const fb::ExpertPart& p) {
  return {{"shape", {p.rows(), p.cols()}},
          {"dtype", std::string(dtype_name(static_cast<DType>(p.dtype())))},
          {"data_offset", p.data_offset()},
          {"data_size", p.data_size()},
          {"scale_format", scale_format_name(static_cast<ScaleFormat>(p.scale_format()))},
          {"scale_offset", p.scale_offset()},
          {"scale_size", p.scale_size()},
          {"block", {p.block_rows(), p.block_cols()}}};
}

// Every expert blob of MoE layer `layer`: where it lies in the file and its parts, so a script
// can read any expert's weights (the header has passed the verifier, so the vectors exist).
nlohmann::json expert_blobs_json(const fb::Header& h, int64_t layer) {
  nlohmann::json blobs = nlohmann::json::array();
  for (const fb::ExpertLayer* el : *h.expert_layers()) {
    if (el->layer() != layer) continue;
    for (const fb::ExpertBlob* b : *el->experts()) {
      blobs.push_back({{"offset", b->offset()},
                       {"stored_size", b->stored_size()},
                       {"raw_size", b->raw_size()},
                       {"checksum", b->checksum()},
                       {"compression", b->compression() == fb::Compression::Zstd ? "zstd" : "none"},
                       {"gate", expert_part_json(b->gate())},
                       {"up", expert_part_json(b->up())},
                       {"down", expert_part_json(b->down())}});
    }
  }
  return blobs;
}

nlohmann::json inspect_json(const ContainerReader& r, bool with_tensors) {
  using nlohmann::json;
  const fb::Header& h = r.header();
  const Preamble& p = r.preamble();
  json j;
  j["file"] = r.path();
  j["file_size"] = r.file().size();
  j["format_version"] = std::to_string(p.major_version) + "." + std::to_string(p.minor_version);
  j["header"] = {{"offset", p.header_offset}, {"size", p.header_size}};
  auto cfg = parse_json_with_limits(r.config_json(), json_limits::kConfig, "config.json");
  j["config"] = cfg.ok() ? *cfg : json(std::string(r.config_json()));
  uint64_t tensor_bytes = 0;
  json tensors = json::array();
  for (const fb::Tensor* t : *h.tensors()) {
    tensor_bytes += t->size() + t->scale_size();
    if (!with_tensors) continue;
    json shape = json::array();
    for (int64_t d : *t->shape()) shape.push_back(d);
    tensors.push_back({{"name", t->name()->str()},
                       {"dtype", std::string(dtype_name(static_cast<DType>(t->dtype())))},
                       {"shape", shape},
                       {"offset", t->offset()},
                       {"size", t->size()},
                       {"scale_format", scale_format_name(static_cast<ScaleFormat>(t->scale_format()))},
                       {"scale_size", t->scale_size()},
                       {"checksum", t->checksum()}});
    if (t->scale_size() > 0) {
      tensors.back()["scale_offset"] = t->scale_offset();
      tensors.back()["scale_checksum"] = t->scale_checksum();
      tensors.back()["block"] = {t->block_rows(), t->block_cols()};
    }
  }
  j["tensor_count"] = h.tensors()->size();
  j["tensor_bytes"] = tensor_bytes;
  if (with_tensors) j["tensors"] = tensors;
  json layers = json::array();
  uint64_t raw = 0, stored = 0, experts = 0;
  for (int64_t l : r.expert_layers()) {
    uint64_t lraw = 0, lstored = 0, compressed = 0, count = 0;
    for (int64_t e = 0; r.expert_blob(l, e).ok(); ++e) {
      ExpertBlobInfo b = r.expert_blob(l, e).value();
      lraw += b.raw_size;
      lstored += b.padded_size;
      compressed += b.compression == BlobCompression::kZstd;
      ++count;
    }
    auto first = r.expert_blob(l, 0).value();
    auto w = r.mapped_expert_weights(l, 0);
    json layer = {{"layer", l}, {"experts", count}, {"blob_raw_size", first.raw_size},
                  {"raw_bytes", lraw}, {"stored_bytes", lstored}, {"compressed_blobs", compressed}};
    if (w.ok()) {
      layer["dtype"] = std::string(dtype_name(w->gate.dtype));
      layer["scale_format"] = scale_format_name(w->gate.scale_format);
    }
    if (with_tensors) layer["blobs"] = expert_blobs_json(h, l);
    layers.push_back(layer);
    raw += lraw;
    stored += lstored;
    experts += count;
  }
  j["expert_layers"] = layers;
  j["experts"] = {{"count", experts}, {"raw_bytes", raw}, {"stored_bytes", stored}};
  j["tokenizer"] = {{"tokenizer_json_bytes", r.tokenizer_json().size()},
                    {"tokenizer_config_json_bytes", r.tokenizer_config_json().size()},
                    {"chat_template_bytes", h.chat_template() ? h.chat_template()->size() : 0}};
  if (const fb::Provenance* pv = h.provenance()) {
    auto str = [](const flatbuffers::String* s) { return s ? s->str() : std::string(); };
    json files = json::array();
    if (pv->source_files()) {
      for (const fb::SourceFile* f : *pv->source_files()) files.push_back({{"name", str(f->name())}, {"size", f->size()}});
    }
    j["provenance"] = {{"tool", str(pv->tool())}, {"tool_version", str(pv->tool_version())},
                       {"created_unix_seconds", pv->created_unix_seconds()}, {"source", str(pv->source())},
                       {"source_files", files}, {"command_line", str(pv->command_line())},
                       {"notes", str(pv->notes())}};
  }
  return j;
}

int print_load_measurement(const ContainerReader& reader, int blobs) {
  auto m = measure_blob_loading(reader, blobs);
  if (!m.ok()) return report_error(m.status());
  std::printf("blobs:            %llu (%s raw, %s stored, ratio %.3f)\n",
              static_cast<unsigned long long>(m->blobs), format_bytes(m->raw_bytes).c_str(),
              format_bytes(m->stored_bytes).c_str(), m->ratio());
  std::printf("read:             %s/s (%s, one request at a time)\n",
              format_bytes(static_cast<uint64_t>(m->read_bandwidth())).c_str(),
              m->direct_io ? "O_DIRECT" : "buffered: the filesystem refused O_DIRECT");
  if (m->decompress_seconds <= 0) {
    std::printf("decompress:       nothing is compressed (convert --compress zstd to compare)\n");
    return 0;
  }
  std::printf("decompress:       %s/s of raw output on one core\n",
              format_bytes(static_cast<uint64_t>(m->decompress_bandwidth())).c_str());
  std::printf("crossover:        zstd pays below %s/s storage when read then decompressed on one core,\n"
              "                  below %s/s with reads overlapped by one decompressing core\n",
              format_bytes(static_cast<uint64_t>(m->crossover_serial())).c_str(),
              format_bytes(static_cast<uint64_t>(m->crossover_overlapped(1))).c_str());
  for (const std::string& line : blob_load_crossover_table(*m)) std::printf("  %s\n", line.c_str());
  std::printf("  (* = compressed loads faster)\n");
  return 0;
}

int run_inspect(int argc, char** argv) {
  std::string file;
  bool as_json = false, with_tensors = false;
  ArgParser args("inspect", "Show what a .mst container holds: config, tensors, expert table, "
                            "tokenizer, provenance. Checks structure, not checksums (see verify).");
  args.positional("FILE", &file, ".mst container");
  args.flag("--json", &as_json, "machine-readable output");
  args.flag("--tensors", &with_tensors, "list every tensor");
  int64_t measure_load = 0;
  args.option("--measure-load", &measure_load, "N",
              "read (O_DIRECT) and decompress N expert blobs; print bandwidths and the storage "
              "speed below which zstd blobs load faster", 0, 1000000);
  if (!args.parse(argc, argv)) return args.exit_code();
  auto reader = ContainerReader::open(file);
  if (!reader.ok()) return report_error(reader.status());
  if (measure_load > 0) return print_load_measurement(**reader, static_cast<int>(measure_load));
  nlohmann::json j = inspect_json(**reader, with_tensors || as_json);
  if (as_json) {
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  const ModelConfig& c = (*reader)->config();
  std::printf("file:          %s (%s, format %s)\n", file.c_str(), format_bytes(j["file_size"]).c_str(),
              j["format_version"].get<std::string>().c_str());
  std::printf("model:         %s, hidden %lld, %lld layers + %lld MTP, vocab %lld\n", c.architecture.c_str(),
              static_cast<long long>(c.hidden_size), static_cast<long long>(c.num_hidden_layers),
              static_cast<long long>(c.num_nextn_predict_layers), static_cast<long long>(c.vocab_size));
  std::printf("experts:       %lld routed (%lld per token, %lld groups, top %lld groups), %lld shared, width %lld\n",
              static_cast<long long>(c.n_routed_experts), static_cast<long long>(c.num_experts_per_tok),
              static_cast<long long>(c.n_group), static_cast<long long>(c.topk_group),
              static_cast<long long>(c.n_shared_experts), static_cast<long long>(c.moe_intermediate_size));
  std::printf("weights:       %s%s\n", c.quant_method.empty() ? "BF16" : "FP8 E4M3 128x128 blocks",
              c.scale_fmt.empty() ? "" : (", scale_fmt " + c.scale_fmt).c_str());
  std::printf("tensors:       %llu (%s)\n", static_cast<unsigned long long>(j["tensor_count"].get<uint64_t>()),
              format_bytes(j["tensor_bytes"]).c_str());
  std::printf("expert blobs:  %llu in %zu layers, %s raw, %s stored\n",
              static_cast<unsigned long long>(j["experts"]["count"].get<uint64_t>()), j["expert_layers"].size(),
              format_bytes(j["experts"]["raw_bytes"]).c_str(), format_bytes(j["experts"]["stored_bytes"]).c_str());
  for (const auto& l : j["expert_layers"]) {
    std::printf("  layer %3lld: %llu experts x %s%s%s\n", static_cast<long long>(l["layer"].get<int64_t>()),
                static_cast<unsigned long long>(l["experts"].get<uint64_t>()),
                format_bytes(l["blob_raw_size"]).c_str(),
                l["compressed_blobs"].get<uint64_t>() ? ", zstd" : "",
                l.contains("scale_format") ? (", scales " + l["scale_format"].get<std::string>()).c_str() : "");
  }
  std::printf("tokenizer:     %s\n", (*reader)->tokenizer_json().empty()
                                          ? "none"
                                          : format_bytes((*reader)->tokenizer_json().size()).c_str());
  if (j.contains("provenance")) {
    const auto& p = j["provenance"];
    std::printf("provenance:    %s %s from %s (%zu source files)\n", p["tool"].get<std::string>().c_str(),
                p["tool_version"].get<std::string>().c_str(), p["source"].get<std::string>().c_str(),
                p["source_files"].size());
    if (!p["notes"].get<std::string>().empty()) std::printf("notes:         %s\n", p["notes"].get<std::string>().c_str());
  }
  if (with_tensors) {
    for (const auto& t : j["tensors"]) {
      std::string shape;
      for (const auto& d : t["shape"]) {
        if (!shape.empty()) shape.push_back('x');
        shape.append(std::to_string(d.get<int64_t>()));
      }
      std::printf("  %-64s %-8s %-16s %s%s\n", t["name"].get<std::string>().c_str(),
                  t["dtype"].get<std::string>().c_str(), shape.c_str(), format_bytes(t["size"]).c_str(),
                  t["scale_format"] == "none" ? "" : (" scales " + t["scale_format"].get<std::string>()).c_str());
    }
  }
  return 0;
}

MOESTREAM_REGISTER_COMMAND("inspect", "show what a .mst container holds (--json for scripts)", run_inspect);

}  // namespace
}  // namespace moestream::cli
