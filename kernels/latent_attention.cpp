#include "kernels/latent_attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string_view>

#include "kernels/kernel_threads.h"
#include "kernels/latent_attention_simd.h"
#include "kernels/matmul.h"

namespace moestream::kernels {
namespace {

// The scalar reference of the block operations: the same templates with one lane.
struct Scalar {
  using V = float;
  using M = bool;
  static constexpr int64_t kLanes = 1;
  static V zero() { return 0.0f; }
  static V set1(float x) { return x; }
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V max(V a, V b) { return a > b ? a : b; }
  static M less(V a, V b) { return a < b; }
  static V select(M m, V yes, V no) { return m ? yes : no; }
  static V widen_bf16(const uint16_t* p) {
    const uint32_t bits = static_cast<uint32_t>(*p) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  static V exp(V x) { return std::exp(x); }
};

constexpr LatentAttentionOps kReferenceOps{"reference", 1, widen_bf16_rows<Scalar>,
                                           block_scores<Scalar, 1, 1>, block_softmax<Scalar>,
                                           block_accumulate<Scalar, 1, 1>};

std::atomic<const LatentAttentionOps*> g_override{nullptr};

constexpr int64_t kBlockRows = 64;     // KV rows per block: the scores block is [64][queries]
constexpr int64_t kMaxTileQueries = 64;  // tokens x heads per tile (its latents stay in L2)

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// How the work is cut: tiles of `tile_tokens` x `tile_heads` queries, each swept over its
// visible rows in `splits` ranges of `split_rows` rows (splits > 1 only when there are
// fewer tiles than threads, as in decode).
struct Cut {
  int64_t tile_heads, tile_tokens, head_tiles, token_tiles, tiles;
  int64_t splits, split_rows;
  int64_t max_queries, padded_queries;
};

Cut cut_work(const LatentQueries& q, int64_t rows, int64_t threads, int64_t lanes) {
  Cut c;
  c.tile_heads = std::min(q.heads, kMaxTileQueries);
  c.tile_tokens = std::min(q.tokens, std::max<int64_t>(1, kMaxTileQueries / c.tile_heads));
  c.head_tiles = (q.heads + c.tile_heads - 1) / c.tile_heads;
  c.token_tiles = (q.tokens + c.tile_tokens - 1) / c.tile_tokens;
  c.tiles = c.head_tiles * c.token_tiles;
  c.splits = 1;
  if (c.tiles < threads) {
    const int64_t blocks = (rows + kBlockRows - 1) / kBlockRows;
    c.splits = std::max<int64_t>(1, std::min((threads + c.tiles - 1) / c.tiles, blocks / 2));
  }
  c.split_rows = round_up((rows + c.splits - 1) / c.splits, kBlockRows);
  c.max_queries = c.tile_tokens * c.tile_heads;
  c.padded_queries = round_up(c.max_queries, lanes);
  return c;
}

// One thread's working memory.
struct WorkerScratch {
  float* qt;       // [width][padded queries]: the tile's queries, transposed and scaled
  float* widened;  // [kBlockRows][width]: a bf16 block as f32
  float* st;       // [kBlockRows][padded queries]: scores, then probabilities
  float* o;        // [queries][latent]: running weighted latents (when splits == 1)
  float* limit;    // [padded queries]: first row each query cannot see
  float* run_max;
  float* run_sum;
  float* alpha;
};

}  // namespace

uint64_t latent_attention_scratch_bytes(int64_t tokens, int64_t heads, int64_t latent_dim,
                                        int64_t rope_dim, int64_t threads) {
  const int64_t width = latent_dim + rope_dim;
  const int64_t queries = std::min(std::max<int64_t>(tokens, 1) * std::max<int64_t>(heads, 1), kMaxTileQueries);
  const int64_t mp = round_up(queries, 16);
  const int64_t per_worker = width * mp + kBlockRows * width + kBlockRows * mp + queries * latent_dim + 4 * mp;
  // Splits happen only with fewer tiles than threads: at most 2 x threads units.
  const int64_t partials = 2 * threads * queries * (latent_dim + 2);
  const int64_t floats = threads * per_worker + partials;
  return static_cast<uint64_t>(floats) * 4 + static_cast<uint64_t>(threads) * (sizeof(WorkerScratch) + 64) + 16 * 64;
}

const LatentAttentionOps& latent_attention_ops_reference() { return kReferenceOps; }

const LatentAttentionOps& latent_attention_ops_avx512_8() {
  static const LatentAttentionOps ops{"avx512 (8 queries)", 8, latent_attention_ops_avx512().widen_bf16,
                                      latent_attention_scores8_avx512, latent_attention_ops_avx2().softmax,
                                      latent_attention_ops_avx512().accumulate};
  return ops;
}

const LatentAttentionOps& active_latent_attention_ops() {
  if (const LatentAttentionOps* o = g_override.load(std::memory_order_acquire)) return *o;
  const std::string_view name = active_matmul_kernels().name;
  if (name == "avx512") return latent_attention_ops_avx512();
  if (name == "avx2") return latent_attention_ops_avx2();
  return kReferenceOps;
}

void set_latent_attention_ops(const LatentAttentionOps* ops) {
  g_override.store(ops, std::memory_order_release);
}

void latent_attention(const LatentQueries& q, const LatentKvRows& kv, float* out,
                      ScratchArena& arena) {
  if (q.tokens <= 0 || q.heads <= 0) return;
  ScratchArena::Scope scope(arena);
  const LatentAttentionOps* chosen = &active_latent_attention_ops();
  const int64_t width = kv.width(), latent = kv.latent_dim;
  const int64_t rows = q.first_position + q.tokens;  // rows the last token sees
  const int64_t threads = kernel_threads();
  Cut cut = cut_work(q, rows, threads, chosen->lanes);
  // Tiles of at most 8 queries (decode with 8 heads or fewer) would leave half of each
  // 16-lane vector empty: the 8-query set keeps them full.
  if (chosen == &latent_attention_ops_avx512() && cut.max_queries <= 8) {
    chosen = &latent_attention_ops_avx512_8();
    cut = cut_work(q, rows, threads, chosen->lanes);
  } else if (chosen == &latent_attention_ops_avx512_8() && cut.max_queries > 8) {
    chosen = &latent_attention_ops_avx512();  // its scores take exactly 8 queries
    cut = cut_work(q, rows, threads, chosen->lanes);
  }
  const LatentAttentionOps& ops = *chosen;
  const int64_t mp = cut.padded_queries;

  WorkerScratch* workers = arena.take<WorkerScratch>(static_cast<size_t>(threads));
  for (int64_t w = 0; w < threads; ++w) {
    WorkerScratch& s = workers[w];
    s.qt = arena.take<float>(static_cast<size_t>(width * mp));
    s.widened = kv.bf16 ? arena.take<float>(static_cast<size_t>(kBlockRows * width)) : nullptr;
    s.st = arena.take<float>(static_cast<size_t>(kBlockRows * mp));
    s.o = arena.take<float>(static_cast<size_t>(cut.max_queries * latent));
    s.limit = arena.take<float>(static_cast<size_t>(mp));
    s.run_max = arena.take<float>(static_cast<size_t>(mp));
    s.run_sum = arena.take<float>(static_cast<size_t>(mp));
    s.alpha = arena.take<float>(static_cast<size_t>(mp));
  }
  // Partial results of split sweeps, merged below: [unit][queries] maxima and sums and
  // [unit][queries][latent] unnormalized latents.
  const int64_t units = cut.tiles * cut.splits;
  float* part_o = nullptr;
  float* part_max = nullptr;
  float* part_sum = nullptr;
  if (cut.splits > 1) {
    part_o = arena.take<float>(static_cast<size_t>(units * cut.max_queries * latent));
    part_max = arena.take<float>(static_cast<size_t>(units * cut.max_queries));
    part_sum = arena.take<float>(static_cast<size_t>(units * cut.max_queries));
  }

  // The tile of unit u: later tokens (more rows to see) first, so the dynamic hand-out ends
  // with the cheap ones.
  struct Tile {
    int64_t t0, tokens, h0, heads;
  };
  const auto tile_of = [&](int64_t tile) {
    const int64_t token_tile = cut.token_tiles - 1 - tile / cut.head_tiles;
    const int64_t head_tile = tile % cut.head_tiles;
    Tile t;
    t.t0 = token_tile * cut.tile_tokens;
    t.tokens = std::min(cut.tile_tokens, q.tokens - t.t0);
    t.h0 = head_tile * cut.tile_heads;
    t.heads = std::min(cut.tile_heads, q.heads - t.h0);
    return t;
  };

  const int64_t work = q.tokens * q.heads * rows * width;  // multiply-adds, roughly
  parallel_units(units, work, [&](int64_t unit, int64_t worker) {
    const WorkerScratch& s = workers[worker];
    const Tile tile = tile_of(unit / cut.splits);
    const int64_t split = unit % cut.splits;
    const int64_t m = tile.tokens * tile.heads;
    // Queries: row r is token t0 + r / heads, head h0 + r % heads; padding rows are zero
    // queries that see everything (finite, never written out).
    for (int64_t r = 0; r < mp; ++r) {
      const bool real = r < m;
      const int64_t t = tile.t0 + r / tile.heads, h = tile.h0 + r % tile.heads;
      const float* src = real ? q.q + (t * q.heads + h) * width : nullptr;
      for (int64_t c = 0; c < width; ++c) s.qt[c * mp + r] = real ? src[c] * q.scale : 0.0f;
      s.limit[r] = real ? static_cast<float>(q.first_position + t + 1) : 3e38f;
      s.run_max[r] = kNoScore;
      s.run_sum[r] = 0.0f;
    }
    float* o = cut.splits > 1 ? part_o + unit * cut.max_queries * latent : s.o;
    std::fill(o, o + m * latent, 0.0f);
    const int64_t seen = q.first_position + tile.t0 + tile.tokens;  // rows the tile's last token sees
    const int64_t begin = split * cut.split_rows;
    const int64_t end = std::min(seen, begin + cut.split_rows);
    const int64_t element = kv.bf16 ? 2 : 4;
    for (int64_t j0 = begin; j0 < end; j0 += kBlockRows) {
      const int64_t n = std::min(kBlockRows, end - j0);
      // Ask for the next block while this one computes: in decode the rows come from DRAM
      // (the weights read since the last step evicted them) and the hardware prefetcher
      // alone left the sweep waiting on them.
      const int64_t next_rows = std::min(kBlockRows, end - j0 - n);
      if (next_rows > 0) {
        const char* next = static_cast<const char*>(kv.rows) + (j0 + n) * kv.row_stride * element;
        const int64_t bytes = next_rows * kv.row_stride * element;
        for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(next + b, 0, 2);  // into L2
      }
      const float* k;
      int64_t ldk;
      if (kv.bf16) {
        const uint16_t* src = static_cast<const uint16_t*>(kv.rows) + j0 * kv.row_stride;
        for (int64_t j = 0; j < n; ++j) ops.widen_bf16(src + j * kv.row_stride, width, s.widened + j * width);
        k = s.widened;
        ldk = width;
      } else {
        k = static_cast<const float*>(kv.rows) + j0 * kv.row_stride;
        ldk = kv.row_stride;
      }
      ops.scores(s.qt, mp, k, ldk, n, width, s.st);
      ops.softmax(s.st, mp, n, static_cast<float>(j0), s.limit, s.run_max, s.run_sum, s.alpha);
      ops.accumulate(s.st, mp, m, k, ldk, n, latent, s.alpha, o, latent);
    }
    if (cut.splits > 1) {
      std::copy_n(s.run_max, m, part_max + unit * cut.max_queries);
      std::copy_n(s.run_sum, m, part_sum + unit * cut.max_queries);
      return;
    }
    for (int64_t r = 0; r < m; ++r) {
      const int64_t t = tile.t0 + r / tile.heads, h = tile.h0 + r % tile.heads;
      const float inv = 1.0f / s.run_sum[r];
      float* dst = out + (h * q.tokens + t) * latent;
      for (int64_t c = 0; c < latent; ++c) dst[c] = o[r * latent + c] * inv;
    }
  });
  if (cut.splits == 1) return;
  // Merge the splits of each tile: rescale each to the largest maximum and renormalize.
  for (int64_t tile_index = 0; tile_index < cut.tiles; ++tile_index) {
    const Tile tile = tile_of(tile_index);
    const int64_t m = tile.tokens * tile.heads;
    const int64_t first = tile_index * cut.splits;
    for (int64_t r = 0; r < m; ++r) {
      float top = kNoScore;
      for (int64_t sp = 0; sp < cut.splits; ++sp) {
        if (part_sum[(first + sp) * cut.max_queries + r] > 0.0f) top = std::max(top, part_max[(first + sp) * cut.max_queries + r]);
      }
      const int64_t t = tile.t0 + r / tile.heads, h = tile.h0 + r % tile.heads;
      float* dst = out + (h * q.tokens + t) * latent;
      std::fill(dst, dst + latent, 0.0f);
      float total = 0.0f;
      for (int64_t sp = 0; sp < cut.splits; ++sp) {
        const int64_t u = first + sp;
        const float sum = part_sum[u * cut.max_queries + r];
        if (sum <= 0.0f) continue;  // a range beyond this query's last visible row
        const float weight = std::exp(part_max[u * cut.max_queries + r] - top);
        total += weight * sum;
        const float* src = part_o + (u * cut.max_queries + r) * latent;
        for (int64_t c = 0; c < latent; ++c) dst[c] += weight * src[c];
      }
      const float inv = 1.0f / total;
      for (int64_t c = 0; c < latent; ++c) dst[c] *= inv;
    }
  }
}

}  // namespace moestream::kernels
