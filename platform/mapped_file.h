// A read-only memory map of a whole file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/status.h"

namespace moestream {

// Owns a read-only MAP_SHARED mapping, unmapped in the destructor (or when moved over).
// data() and every pointer/view into it are valid only while this object lives; the caller
// keeps it alive. Thread-safe: all methods are const after open() and may run concurrently.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  static Result<MappedFile> open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Page-cache hints for a byte range (no effect on correctness).
  void advise_willneed(size_t offset, size_t length) const;
  void advise_random() const;
  // No read-ahead on faults in [offset, offset + length): a fault reads its own page only.
  void advise_random(size_t offset, size_t length) const;

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace moestream
