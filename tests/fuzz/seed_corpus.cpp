// fuzz_seed_corpus DIR: writes DIR/container/{micro,micro-zstd}.mst and DIR/safetensors/*.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "format/container_writer.h"
#include "format/model_config_json.h"
#include "format/model_tensors.h"
#include "interop/safetensors_file.h"
#include "fuzz_container.h"

using namespace moestream;

namespace {

Status write_container(const std::string& path, BlobCompression compression) {
  const ModelConfig c = fuzz::micro_config();
  ContainerWriterOptions options;
  options.compression = compression;
  MOESTREAM_ASSIGN_OR_RETURN(auto w, ContainerWriter::create(path, options));
  std::vector<uint8_t> data;
  std::vector<float> scales(1, 0.01f);
  for (const TensorSpec& s : deepseek_v3_tensor_specs(c)) {
    if (s.expert >= 0) continue;
    TensorRecord t;
    t.name = s.name;
    t.dtype = s.checkpoint_dtype(true);
    t.shape = s.shape;
    uint64_t n = 1;
    for (int64_t d : s.shape) n *= static_cast<uint64_t>(d);
    data.assign(n * dtype_size(t.dtype), 0x11);
    t.data = data.data();
    t.size = data.size();
    if (t.dtype == DType::kF8E4M3) {
      t.scale_format = ScaleFormat::kF32;
      t.scales = scales.data();
      t.scale_size = 4;
    }
    MOESTREAM_TRY(w->add_tensor(t));
  }
  for (int64_t layer = 1; layer < c.total_layers(); ++layer) {
    for (int64_t e = 0; e < c.n_routed_experts; ++e) {
      std::array<ExpertPartLayout, 3> parts;
      for (int p = 0; p < 3; ++p) {
        parts[p].rows = p < 2 ? c.moe_intermediate_size : c.hidden_size;
        parts[p].cols = p < 2 ? c.hidden_size : c.moe_intermediate_size;
        parts[p].scale_format = ScaleFormat::kF32;
      }
      ExpertBlobLayout layout = layout_expert_blob(parts);
      std::vector<uint8_t> blob(layout.raw_size, 0);
      for (const auto& p : layout.parts) std::fill_n(blob.begin() + static_cast<long>(p.data_offset), p.data_size, 0x22);
      MOESTREAM_TRY(w->add_expert(layer, e, layout, blob.data()));
    }
  }
  ContainerMetadata md;
  md.config = c;
  md.config_json = model_config_to_json(c);
  md.tokenizer_json = "{}";
  md.tool = "fuzz_seed_corpus";
  return w->finish(md);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  std::filesystem::create_directories(dir + "/container");
  std::filesystem::create_directories(dir + "/safetensors");
  for (auto [name, compression] : {std::pair{"micro.mst", BlobCompression::kNone},
                                   std::pair{"micro-zstd.mst", BlobCompression::kZstd}}) {
    Status s = write_container(dir + "/container/" + name, compression);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.to_string().c_str());
      return 1;
    }
  }
  const std::vector<std::string> headers = {
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F8_E4M3","shape":[2,4],"data_offsets":[0,8]},"a_scale_inv":{"dtype":"F32","shape":[1,1],"data_offsets":[8,12]}})",
      R"({"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"b":{"dtype":"F32","shape":[],"data_offsets":[6,10]}})",
      R"({"x":{"dtype":"I64","shape":[1,1,1],"data_offsets":[0,8]}})",
  };
  for (size_t i = 0; i < headers.size(); ++i) {
    std::ofstream(dir + "/safetensors/seed" + std::to_string(i), std::ios::binary) << headers[i];
  }
  // JSON entry points: each target's directory gets inputs of the shape it reads.
  const std::string config = model_config_to_json(fuzz::micro_config());
  const std::string index = R"({"metadata":{"total_size":12},"weight_map":{"a":"model-00001-of-00001.safetensors"}})";
  const std::string chat = R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"},)"
                           R"({"role":"assistant","content":"","tool_calls":[{"type":"function","function":)"
                           R"({"name":"f","arguments":"{\"x\": [1, {\"y\": null}]}"}}]},{"role":"tool","content":"42"}],)"
                           R"("tools":[{"type":"function","function":{"name":"f","description":"d","parameters":)"
                           R"({"type":"object","properties":{"x":{"type":"array","items":{"type":"integer"}}}}}}]})";
  const std::string tokenizer = R"({"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},)"
                                R"("pre_tokenizer":{"type":"ByteLevel"},"decoder":{"type":"ByteLevel"},)"
                                R"("added_tokens":[{"id":3,"content":"<｜User｜>","special":true}]})";
  const std::string tokenizer_config = R"({"bos_token":{"content":"<｜begin▁of▁sentence｜>"},"eos_token":"x",)"
                                       R"("chat_template":[{"name":"default","template":"{{ x }}"}]})";
  const std::vector<std::pair<std::string, std::vector<std::string>>> seeds = {
      {"json_limits", {config, chat, tokenizer, R"([1, "a\"[", {"b": [true, null, -1.5e3]}])"}},
      {"model_config_json", {config}},
      {"hf_checkpoint", {config + std::string(1, '\0') + index}},
      {"tokenizer_json", {tokenizer, tokenizer + std::string(1, '\0') + tokenizer_config}},
      {"model_tokenizer", {tokenizer_config, R"({"chat_template":"{% for m in messages %}{{ m }}{% endfor %}"})"}},
      {"chat_request", {chat, R"([{"role":"user","content":"hello"}])"}},
      {"json_schema_grammar", {R"(s{"type":"object","properties":{"a":{"type":"integer","minimum":-5,"maximum":70}},"required":["a"]})",
                               R"(p^[A-Z]{2,3}(-\d+)?$)", R"(s{"anyOf":[{"$ref":"#/$defs/x"},{"type":"null"}],"$defs":{"x":{"enum":[1,"b"]}}})"}},
  };
  for (const auto& [target, texts] : seeds) {
    std::filesystem::create_directories(dir + "/" + target);
    for (size_t i = 0; i < texts.size(); ++i) {
      std::ofstream(dir + "/" + target + "/seed" + std::to_string(i), std::ios::binary) << texts[i];
    }
  }
  return 0;
}
