#include "platform/mapped_file.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "support/temp_dir.h"

using namespace moestream;

TEST_CASE("MappedFile maps the whole file read-only") {
  moestream::testing::TempDir dir;
  std::string path = dir.file("m.bin");
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello mapped world";
  }
  auto m = MappedFile::open(path);
  REQUIRE(m.ok());
  CHECK(m->size() == 18);
  CHECK(std::string(reinterpret_cast<const char*>(m->data()), 5) == "hello");
  m->advise_willneed(0, 18);
  m->advise_random();
  MappedFile moved = std::move(m.value());
  CHECK(moved.size() == 18);
}

namespace {

// The VmFlags line of the mapping in /proc/self/smaps that covers `address` ("" if none).
std::string vm_flags_at(const void* address) {
  const auto a = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = a >= begin && a < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

}  // namespace

TEST_CASE("MappedFile::advise_random marks only its range for reads without read-ahead") {
  moestream::testing::TempDir dir;
  std::string path = dir.file("r.bin");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(3 * 4096, 'x');
  }
  auto m = MappedFile::open(path);
  REQUIRE(m.ok());
  // The kernel shows MADV_RANDOM as the "rr" flag of the mapping it splits off.
  m->advise_random(4096 + 100, 4096 - 100);
  const std::string first = vm_flags_at(m->data()), middle = vm_flags_at(m->data() + 4096),
                    last = vm_flags_at(m->data() + 2 * 4096);
  REQUIRE_FALSE(middle.empty());
  CHECK(middle.find(" rr") != std::string::npos);
  CHECK(first.find(" rr") == std::string::npos);
  CHECK(last.find(" rr") == std::string::npos);
  CHECK(std::string(reinterpret_cast<const char*>(m->data()) + 4096, 3) == "xxx");
}

TEST_CASE("MappedFile errors name the path") {
  auto m = MappedFile::open("/nonexistent.mst");
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().message().find("/nonexistent.mst") != std::string::npos);
  auto d = MappedFile::open("/");
  CHECK_FALSE(d.ok());
}
