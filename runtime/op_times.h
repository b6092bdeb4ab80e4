// Where the forward pass spends its time, summed over steps: attention (its norm, projections,
// the attention itself and the residual add), the dense FFN, the MoE layer (router, expert
// waits and compute), the output head (final norm and the vocabulary product), and the rest
// (embedding rows, bookkeeping). A clock read per section, about 20 per step: always on.
// Beside each section's time, what the expert reads did on the device meanwhile (time with a
// read in flight, bytes landed): where the disk idles is where reads could still be overlapped.
#pragma once

#include <algorithm>
#include <cstdint>

namespace moestream {

// The expert loader's activity so far: time with at least one read in flight, bytes read.
struct DiskActivity {
  uint64_t busy_ns = 0;
  uint64_t bytes = 0;
  DiskActivity plus(const DiskActivity& o) const { return {busy_ns + o.busy_ns, bytes + o.bytes}; }
  DiskActivity minus(const DiskActivity& o) const { return {busy_ns - o.busy_ns, bytes - o.bytes}; }
};

// A point in the step: the clock and the disk's counters then.
struct OpMark {
  uint64_t ns = 0;
  DiskActivity disk;
};

struct OpTime {
  uint64_t ns = 0;
  DiskActivity disk;  // during this section

  void add(const OpMark& start, const OpMark& end) {
    const uint64_t span = end.ns - start.ns;
    ns += span;
    // The disk's counters are read just after the clock: a span's busy time may run over it.
    const DiskActivity d = end.disk.minus(start.disk);
    disk = disk.plus({std::min(d.busy_ns, span), d.bytes});
  }
  OpTime plus(const OpTime& o) const { return {ns + o.ns, disk.plus(o.disk)}; }
  OpTime minus(const OpTime& o) const { return {ns - o.ns, disk.minus(o.disk)}; }
  // What this span has beyond `part` of it, each count at least 0 (the parts' clocks are read
  // apart from the whole's).
  OpTime beyond(const OpTime& part) const {
    const auto over = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
    return {over(ns, part.ns), {over(disk.busy_ns, part.disk.busy_ns), over(disk.bytes, part.disk.bytes)}};
  }
};

struct OpTimes {
  OpTime attention;
  OpTime dense_ffn;
  OpTime moe;
  OpTime head;
  OpTime other;
  uint64_t steps = 0;

  OpTime total() const { return attention.plus(dense_ffn).plus(moe).plus(head).plus(other); }
  uint64_t total_ns() const { return total().ns; }
  OpTimes plus(const OpTimes& o) const {
    return {attention.plus(o.attention), dense_ffn.plus(o.dense_ffn), moe.plus(o.moe),
            head.plus(o.head),           other.plus(o.other),         steps + o.steps};
  }
  OpTimes minus(const OpTimes& earlier) const {
    return {attention.minus(earlier.attention), dense_ffn.minus(earlier.dense_ffn), moe.minus(earlier.moe),
            head.minus(earlier.head),           other.minus(earlier.other),         steps - earlier.steps};
  }
};

}  // namespace moestream
