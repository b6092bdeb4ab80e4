#include "forward_session.h"

namespace moestream::cli {

namespace {

// --verify-on-load: damaged bytes are an error before the forward pass can read them.
Status verify_at_load(const ContainerReader& reader, const std::string& verify, const std::string& path) {
  Status s;
  if (verify == "full") s = reader.verify_all_checksums();  // every tensor and expert blob
  else if (verify == "fast") s = reader.verify_tensor_checksums();  // experts: on first use / read
  if (!s.ok()) return s.with_context("--verify-on-load " + verify + " refused " + path);
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<LoadedModel>> load_model(const std::string& path, const std::string& verify) {
  auto loaded = std::make_unique<LoadedModel>();
  MOESTREAM_ASSIGN_OR_RETURN(loaded->reader, ContainerReader::open(path));
  MOESTREAM_TRY(verify_at_load(*loaded->reader, verify, path));
  loaded->weights = std::make_unique<ContainerWeightSource>(*loaded->reader);
  loaded->experts = std::make_unique<ResidentExpertProvider>(*loaded->reader, verify == "fast");
  auto model = Model::load(*loaded->weights, *loaded->experts);
  if (!model.ok()) return model.status().with_context(path);
  loaded->model = std::move(model).value();
  return loaded;
}

Result<std::unique_ptr<LoadedModel>> load_model(const std::string& path, const StreamingFlags& flags,
                                                int64_t max_context, bool bf16_kv) {
  if (!flags.enabled()) return load_model(path, flags.verify_on_load);
  auto loaded = std::make_unique<LoadedModel>();
  MOESTREAM_ASSIGN_OR_RETURN(loaded->reader, ContainerReader::open(path));
  MOESTREAM_TRY(verify_at_load(*loaded->reader, flags.verify_on_load, path));
  loaded->weights = std::make_unique<ContainerWeightSource>(*loaded->reader);
  auto session = open_streaming(*loaded->reader, flags, max_context, bf16_kv);
  if (!session.ok()) return session.status().with_context(path);
  loaded->streaming = std::move(session).value();
  auto model = Model::load(*loaded->weights, *loaded->streaming->provider);
  if (!model.ok()) return model.status().with_context(path);
  loaded->model = std::move(model).value();
  loaded->model->set_prefetch_margin(flags.prefetch_margin);
  return loaded;
}

Result<KvCachePrecision> parse_kv_cache_precision(const std::string& text) {
  if (text == "f32") return KvCachePrecision::kF32;
  if (text == "bf16") return KvCachePrecision::kBF16;
  return invalid_argument("--kv-cache must be f32 or bf16, got '" + text + "'");
}

}  // namespace moestream::cli
