// Files: a read-only handle (buffered or O_DIRECT) and a writer that never leaves a
// half-written output behind (writes PATH.partial, renames on commit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/signal_cleanup.h"
#include "platform/status.h"

namespace moestream {

// O_DIRECT requires the buffer address, the length and the file offset to be multiples of
// the logical block size; 4 KiB satisfies every device we target.
inline constexpr size_t kDirectIoAlignment = 4096;

// Owns one file descriptor (closed in the destructor). Thread-safe: read_exact() and the other
// const methods use pread and may be called concurrently; move/destroy need exclusive access.
class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  static Result<File> open_read(const std::string& path);
  // Opens with O_DIRECT. If the filesystem refuses it (tmpfs, some overlayfs), and
  // `allow_fallback` is set, the file is opened buffered and direct() is false; the reason
  // is in fallback_reason().
  static Result<File> open_direct(const std::string& path, bool allow_fallback = true);

  // Reads exactly `size` bytes at `offset` (retries short reads and EINTR). A read past the
  // end of the file is a kCorrupt error naming the file. In direct mode the buffer, size and
  // offset must be multiples of kDirectIoAlignment, else kInvalidArgument says which one.
  Status read_exact(void* buffer, size_t size, uint64_t offset) const;
  Result<uint64_t> size() const;

  int fd() const { return fd_; }
  bool direct() const { return direct_; }
  const std::string& path() const { return path_; }
  const std::string& fallback_reason() const { return fallback_reason_; }

 private:
  int fd_ = -1;
  bool direct_ = false;
  std::string path_;
  std::string fallback_reason_;
};

// Checks the O_DIRECT alignment rules for one request; the message names the offending value.
Status check_direct_io_alignment(const void* buffer, size_t size, uint64_t offset);

// Writes PATH.partial sequentially; commit() flushes, fsyncs and renames it to PATH.
// Destroying an uncommitted writer deletes the partial file, so a failed run leaves nothing;
// SIGINT / SIGTERM / SIGHUP delete it too (platform/signal_cleanup.h).
class AtomicFileWriter {
 public:
  AtomicFileWriter() = default;
  ~AtomicFileWriter();
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  static Result<AtomicFileWriter> create(const std::string& path);

  Status write(const void* data, size_t size);
  // Writes zero bytes until the position is a multiple of `alignment`.
  Status pad_to(uint64_t alignment);
  // Overwrites bytes already written (e.g. a header patched at the end).
  Status write_at(const void* data, size_t size, uint64_t offset);
  uint64_t position() const { return position_; }
  Status commit();
  void abandon();  // deletes the partial file now

  const std::string& path() const { return path_; }
  const std::string& partial_path() const { return partial_path_; }

 private:
  Status flush_buffer();

  int fd_ = -1;
  std::string path_;
  std::string partial_path_;
  uint64_t position_ = 0;
  std::string buffer_;  // coalesces small writes
  RemoveOnSignal cleanup_;  // the partial file, while it exists
};

}  // namespace moestream
