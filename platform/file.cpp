#include "platform/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace moestream {

namespace {
constexpr size_t kWriteBufferSize = 4 << 20;
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      direct_(other.direct_),
      path_(std::move(other.path_)),
      fallback_reason_(std::move(other.fallback_reason_)) {}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    direct_ = other.direct_;
    path_ = std::move(other.path_);
    fallback_reason_ = std::move(other.fallback_reason_);
  }
  return *this;
}

Result<File> File::open_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, "cannot open " + path);
  File f;
  f.fd_ = fd;
  f.path_ = path;
  return f;
}

Result<File> File::open_direct(const std::string& path, bool allow_fallback) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  if (fd >= 0) {
    File f;
    f.fd_ = fd;
    f.direct_ = true;
    f.path_ = path;
    return f;
  }
  int err = errno;
  if (err != EINVAL || !allow_fallback) {
    if (err == EINVAL) {
      return unsupported("the filesystem holding " + path +
                         " does not support O_DIRECT; put the file on ext4/xfs/btrfs or allow "
                         "buffered reads");
    }
    return errno_status(err, "cannot open " + path);
  }
  auto f = open_read(path);
  if (!f.ok()) return f.status();
  f->fallback_reason_ = "the filesystem holding " + path +
                        " refuses O_DIRECT; reading through the page cache instead";
  return f;
}

Status check_direct_io_alignment(const void* buffer, size_t size, uint64_t offset) {
  auto addr = reinterpret_cast<uintptr_t>(buffer);
  if (addr % kDirectIoAlignment != 0) {
    return invalid_argument("O_DIRECT buffer address " + std::to_string(addr) +
                            " is not a multiple of 4096");
  }
  if (size % kDirectIoAlignment != 0) {
    return invalid_argument("O_DIRECT read size " + std::to_string(size) +
                            " is not a multiple of 4096");
  }
  if (offset % kDirectIoAlignment != 0) {
    return invalid_argument("O_DIRECT file offset " + std::to_string(offset) +
                            " is not a multiple of 4096");
  }
  return ok_status();
}

Status File::read_exact(void* buffer, size_t size, uint64_t offset) const {
  if (fd_ < 0) return invalid_argument("read from a closed file");
  if (direct_) MOESTREAM_TRY(check_direct_io_alignment(buffer, size, offset).with_context(path_));
  auto* out = static_cast<char*>(buffer);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd_, out + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "read of " + std::to_string(size) + " bytes at offset " +
                                     std::to_string(offset) + " in " + path_);
    }
    if (n == 0) {
      return corrupt(path_ + " ends before offset " + std::to_string(offset + size) +
                     " (file truncated?)");
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Result<uint64_t> File::size() const {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return errno_status(errno, "cannot stat " + path_);
  return static_cast<uint64_t>(st.st_size);
}

AtomicFileWriter::~AtomicFileWriter() { abandon(); }

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      partial_path_(std::move(other.partial_path_)),
      position_(other.position_),
      buffer_(std::move(other.buffer_)),
      cleanup_(std::move(other.cleanup_)) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
  if (this != &other) {
    abandon();
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    partial_path_ = std::move(other.partial_path_);
    position_ = other.position_;
    buffer_ = std::move(other.buffer_);
    cleanup_ = std::move(other.cleanup_);
  }
  return *this;
}

Result<AtomicFileWriter> AtomicFileWriter::create(const std::string& path) {
  AtomicFileWriter w;
  w.path_ = path;
  w.partial_path_ = path + ".partial";
  // Registered before the file exists: a signal right after the open must still find it.
  w.cleanup_ = RemoveOnSignal(w.partial_path_);
  w.fd_ = ::open(w.partial_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (w.fd_ < 0) return errno_status(errno, "cannot create " + w.partial_path_);
  w.buffer_.reserve(kWriteBufferSize);
  return w;
}

Status AtomicFileWriter::flush_buffer() {
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "cannot write " + partial_path_);
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
  return ok_status();
}

Status AtomicFileWriter::write(const void* data, size_t size) {
  if (fd_ < 0) return invalid_argument("write to a closed writer for " + path_);
  const char* p = static_cast<const char*>(data);
  if (buffer_.size() + size > kWriteBufferSize) MOESTREAM_TRY(flush_buffer());
  if (size >= kWriteBufferSize) {
    buffer_.assign(p, size);  // large blocks go straight through
    MOESTREAM_TRY(flush_buffer());
    buffer_.shrink_to_fit();
    buffer_.reserve(kWriteBufferSize);
  } else {
    buffer_.append(p, size);
  }
  position_ += size;
  return ok_status();
}

Status AtomicFileWriter::pad_to(uint64_t alignment) {
  uint64_t rem = position_ % alignment;
  if (rem == 0) return ok_status();
  std::string zeros(alignment - rem, '\0');
  return write(zeros.data(), zeros.size());
}

Status AtomicFileWriter::write_at(const void* data, size_t size, uint64_t offset) {
  if (offset + size > position_) {
    return invalid_argument("write_at beyond the written part of " + partial_path_);
  }
  MOESTREAM_TRY(flush_buffer());
  const char* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd_, p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "cannot write " + partial_path_);
    }
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

Status AtomicFileWriter::commit() {
  if (fd_ < 0) return invalid_argument("commit of a closed writer for " + path_);
  Status s = flush_buffer();
  if (s.ok() && ::fsync(fd_) != 0) s = errno_status(errno, "cannot sync " + partial_path_);
  if (!s.ok()) {
    abandon();
    return s;
  }
  if (::close(fd_) != 0) {
    fd_ = -1;
    int err = errno;
    ::unlink(partial_path_.c_str());
    cleanup_.release();
    return errno_status(err, "cannot close " + partial_path_);
  }
  fd_ = -1;
  if (::rename(partial_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(partial_path_.c_str());
    cleanup_.release();
    return errno_status(err, "cannot rename " + partial_path_ + " to " + path_);
  }
  cleanup_.release();
  return ok_status();
}

void AtomicFileWriter::abandon() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(partial_path_.c_str());
  }
  cleanup_.release();
  buffer_.clear();
}

}  // namespace moestream
