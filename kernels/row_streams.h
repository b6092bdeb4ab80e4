// The order in which the batch-1 GEMVs read their rows. Rows [begin, end) are cut into R
// equal runs that are read side by side: tile t holds rows begin + i * q + t (i < R,
// q = (end - begin) / R), so every row of a tile continues the memory stream its row of the
// previous tile ended, and R long sequential streams run at once; the rows left over at the
// end go one at a time. Reading R adjacent rows instead (R streams that jump ahead every
// tile) left the short-row shapes waiting on DRAM: expert down 7168x2048 went from 13.0 to
// 17.0 GB/s, kv_b_proj 32768x512 from 11.1 to 15.3 (2 threads, docs/kernels.md run 6).
// Internal linkage, included by the per-ISA files only (see matmul_isa.h).
#pragma once

#include <cstdint>

namespace moestream::kernels {
namespace {

// How far ahead of the current column each stream is software-prefetched. The next row of a
// stream follows its current row in memory, so this also runs into the next tile's row.
// Prefetches past the end of the matrix are harmless (they never fault).
constexpr int64_t kStreamPrefetchBytes = 1024;
// The same into L2 (prefetcht2), farther ahead, for the FP8 GEMV: 1 KiB into L1 left it at
// 0.71 of a read-sum's bandwidth where this reached 0.83 (2 threads, docs/kernels.md run 7);
// the BF16 GEMV showed no difference.
constexpr int64_t kStreamPrefetchL2Bytes = 4096;

// Calls tile.template operator()<R>(rows) for each full tile and <1> for each leftover row;
// rows holds absolute row indices. Per-row arithmetic must not depend on the tile (it does not
// in the GEMVs), so results are the same for any split of rows between threads.
template <int R, typename Tile>
inline void for_each_stream_tile(int64_t begin, int64_t end, Tile&& tile) {
  const int64_t q = (end - begin) / R;
  int64_t rows[R];
  for (int64_t t = 0; t < q; ++t) {
    for (int i = 0; i < R; ++i) rows[i] = begin + i * q + t;
    tile.template operator()<R>(rows);
  }
  for (int64_t r = begin + R * q; r < end; ++r) {
    rows[0] = r;
    tile.template operator()<1>(rows);
  }
}

}  // namespace
}  // namespace moestream::kernels
