#include "platform/progress_bar.h"

#include <unistd.h>

#include <algorithm>

namespace moestream {

std::string format_bytes(uint64_t bytes) {
  // Binary units, the same ones --ram-budget and every other size flag parses (2G = 2 GiB).
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 6) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, uint64_t total, std::string unit, bool enabled)
    : label_(std::move(label)), total_(total), unit_(std::move(unit)), enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() {
  if (enabled_ && tty_ && !finished_ && last_draw_ns_ != 0) std::fputc('\n', stderr);
}

void ProgressBar::update(uint64_t done) {
  done_ = std::min(done, total_);
  draw(false);
}

void ProgressBar::draw(bool force) {
  if (!enabled_ || finished_) return;
  uint64_t now = now_ns();
  int percent = total_ == 0 ? 100 : static_cast<int>(100.0 * static_cast<double>(done_) /
                                                     static_cast<double>(total_));
  if (!tty_) {
    // Logs get a line every 10 %.
    int step = percent / 10 * 10;
    if (!force && step <= last_percent_logged_) return;
    last_percent_logged_ = step;
    std::fprintf(stderr, "%s: %d%%%s%s\n", label_.c_str(), step, detail_.empty() ? "" : " ",
                 detail_.c_str());
    return;
  }
  if (!force && now - last_draw_ns_ < 100'000'000) return;  // 10 redraws per second
  last_draw_ns_ = now;
  const int width = 30;
  int filled = total_ == 0 ? width : static_cast<int>(width * static_cast<double>(done_) /
                                                      static_cast<double>(total_));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(width, '.');
  double secs = std::max(1e-9, watch_.elapsed_seconds());
  std::string amount;
  if (unit_ == "B") {
    amount = format_bytes(done_) + "/" + format_bytes(total_) + " " +
             format_bytes(static_cast<uint64_t>(static_cast<double>(done_) / secs)) + "/s";
  } else {
    amount = std::to_string(done_) + "/" + std::to_string(total_) + " " + unit_;
  }
  std::fprintf(stderr, "\r%s [%s] %3d%% %s %s\033[K", label_.c_str(), bar.c_str(), percent,
               amount.c_str(), detail_.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish(const std::string& summary) {
  if (finished_) return;
  if (enabled_ && tty_ && last_draw_ns_ != 0) std::fputs("\r\033[K", stderr);
  finished_ = true;
  std::fprintf(stderr, "%s\n", summary.c_str());
}

}  // namespace moestream
