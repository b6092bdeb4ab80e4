#include "format/expert_blob_codec.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "format/checksum.h"

namespace moestream {

std::string expert_blob_name(const ExpertBlobInfo& info, const std::string& file) {
  const std::string l = std::to_string(info.layer), e = std::to_string(info.expert);
  return file + ": expert " + e + " of layer " + l + " (model.layers." + l + ".mlp.experts." + e + ")";
}

Status verify_expert_blob(const ExpertBlobInfo& info, const uint8_t* stored, const std::string& file) {
  const uint64_t actual = xxh3_64(stored, info.stored_size);
  if (actual != info.checksum) {
    return corrupt(expert_blob_name(info, file) + ": blob checksum mismatch (xxh3 " + std::to_string(actual) +
                   ", expected " + std::to_string(info.checksum) + "; data damaged on disk or in transfer)");
  }
  return ok_status();
}

Status decode_expert_blob(const ExpertBlobInfo& info, const uint8_t* stored, uint8_t* raw_out,
                          const std::string& file) {
  if (info.compression == BlobCompression::kNone) {
    if (raw_out != stored) std::memcpy(raw_out, stored, info.raw_size);
    return ok_status();
  }
  if (info.compression != BlobCompression::kZstd) {
    return unsupported(expert_blob_name(info, file) + ": unknown blob compression");
  }
  // A thread-local context: loaders decompress from several worker threads.
  struct FreeDctx {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_DCtx, FreeDctx> context(ZSTD_createDCtx());
  ZSTD_DCtx* dctx = context.get();
  if (dctx == nullptr) return out_of_memory("cannot create a zstd context");
  const size_t n = ZSTD_decompressDCtx(dctx, raw_out, info.raw_size, stored, info.stored_size);
  if (ZSTD_isError(n) || n != info.raw_size) {
    return corrupt(expert_blob_name(info, file) + ": zstd blob does not decompress to its " +
                   std::to_string(info.raw_size) + " raw bytes" +
                   (ZSTD_isError(n) ? std::string(" (") + ZSTD_getErrorName(n) + ")" : ""));
  }
  return ok_status();
}

}  // namespace moestream
