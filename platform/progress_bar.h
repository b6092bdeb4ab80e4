// Progress for long commands: a redrawn bar on a terminal, sparse lines otherwise,
// always closed by one summary line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "platform/clock.h"

namespace moestream {

// Owns its label/detail strings; writes to stderr. Not thread-safe: advance(), update(),
// set_detail() and finish() must come from one thread (or be externally serialized).
class ProgressBar {
 public:
  // `total` in `unit`s ("B" renders as bytes with MB/s). Output goes to stderr.
  ProgressBar(std::string label, uint64_t total, std::string unit = "B", bool enabled = true);
  ~ProgressBar();

  void advance(uint64_t delta) { update(done_ + delta); }
  void update(uint64_t done);
  void set_detail(std::string detail) { detail_ = std::move(detail); }
  // Prints the final summary line (replacing the bar).
  void finish(const std::string& summary);

 private:
  void draw(bool force);

  std::string label_;
  uint64_t total_;
  std::string unit_;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  uint64_t done_ = 0;
  uint64_t last_draw_ns_ = 0;
  int last_percent_logged_ = -1;
  std::string detail_;
  Stopwatch watch_;
};

// "1.5 GB", "12.0 MB", "512 B"
std::string format_bytes(uint64_t bytes);

}  // namespace moestream
