// float32 convolution as an implicit GEMM with an AVX-512 micro-kernel (conv_gemm.h).
//
// Y[M, P] = W[M, K] * col[K, P] + bias, K = C * taps, P = output positions. The micro-kernel
// computes a 12 x 32 tile of Y (24 zmm accumulators) over a K slice of kKc rows, reading the
// weights in place by broadcast; the first K slice starts from the bias, later ones add to Y.
// Two ways to feed it the columns, neither of which builds the whole im2col matrix:
// - 2-D/1-D convolutions that are stride 1 or have more than one tap (conv_direct): the padded
//   input is copied once, split by stride phase, and the output is computed on a grid as wide
//   as a phase's rows, where every tap is a fixed offset into that copy: the kernel reads B in
//   place (no im2col at all); the extra columns are dropped as the kernel stores Y. With stride
//   1 across, padded rows overlap by their padding, so fewer columns are dropped.
// - otherwise, i.e. strided 1x1 and 3-D (pack_block): columns are cut into blocks of whole
//   32-position panels (K x Nc floats within about 1 MiB, to stay in L2) and each block's
//   im2col is gathered straight into the panel layout the kernel streams (copied row by row
//   instead for unpadded 1x1 convolutions with output rows of 16 or more: pack_block_pointwise).
//   A block's last panel is one vector wide when it holds 16 columns or fewer, and up to 4
//   columns past a multiple of 16 are dot products along K (dot_tile) rather than a panel.
// Small outputs with many output channels (ResNet's 7x7 layers) turn the roles round on the
// in-place path's padded input: conv_channel_panels vectorises over 32 output channels of
// weights transposed per task, broadcasting the input at whole output rows of positions, so that
// no lane waits on a position that is not there (49 positions fill 64 lanes of the panels).
// Threads take (column range, output-channel range) tasks from the plugin's pool; OpenBLAS is
// not involved, so its threads never compete with the pool's.
#include "conv_gemm.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "../config.h"
#include "vec_math.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define XHAL_CPU_CONV_X86 1
#include <immintrin.h>
#else
#define XHAL_CPU_CONV_X86 0
#endif

namespace xhal_cpu {
namespace convk {
namespace {

constexpr int64_t kNr = 32;   // positions per panel (two zmm)
constexpr int kMr = 12;       // output channels per micro-tile
constexpr int64_t kKc = 256;  // K rows per slice
// Packed columns per block: K x Nc floats within about 1 MiB.
constexpr int64_t kBlockBytes = 1 << 20;
// Up to this many panels, the in-place path keeps all of them in one task per tile range.
constexpr int64_t kFewPanels = 8;

// The calling thread's buffer for the in-place path (apart from convk::scratch, which the
// packed path's and the channel panels' tasks use on every thread).
float* direct_scratch(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) {
    std::vector<float>().swap(buf);
    buf.resize(n);
  }
  return buf.data();
}

#if XHAL_CPU_CONV_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")

// Lanes [lo, hi) of 16 set (either bound may lie outside [0, 16]).
inline __mmask16 lanes(int64_t lo, int64_t hi) {
  if (lo < 0) lo = 0;
  if (hi > 16) hi = 16;
  if (hi <= lo) return 0;
  return static_cast<__mmask16>(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// The sum of v's lanes. (GCC 12's _mm512_reduce_add_ps and _mm512_castps512_ps256 extract from an
// undefined source, which it then reports as maybe-uninitialized.)
inline float sum_lanes(__m512 v) {
  const __m512d d = _mm512_castps_pd(v);
  const __m256 lo = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, d, 0));
  const __m256 hi = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, d, 1));
  __m256 s = _mm256_add_ps(lo, hi);
  __m128 q = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_movehdup_ps(q));
  return _mm_cvtss_f32(q);
}

// Permute indices that pick lanes 0, 2, ..., 30 of two vectors (a and b as lanes 0-31):
// `_mm512_permutex2var_ps(a, even_lanes(), b)` keeps the even ones of 32 consecutive floats.
inline __m512i even_lanes() {
  return _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
}

// True for a 1x1(x1) convolution without padding: each position reads exactly one input
// element per channel, from a row of the input at a fixed stride.
bool pointwise(const Geom& g) {
  for (int i = 0; i < 3; ++i)
    if (g.k[i] != 1 || g.pb[i] != 0 || g.pe[i] != 0) return false;
  return true;
}

// Output rows at least this long are packed by pack_block_pointwise, shorter ones by
// pack_block's gathers (on ResNet's strided 1x1 layers, same process A/B: rows of 28 packed
// 4-12% faster, rows of 14 the same, rows of 7 2% slower: too many short runs).
constexpr int64_t kPointwiseMinRow = 16;

// dst[0, n) = src[0], src[sw], ..., src[(n - 1) * sw], n <= 32; never reads past the last one.
inline void copy_strided(const float* src, int64_t sw, int64_t n, float* dst) {
  if (sw == 1) {
    _mm512_mask_storeu_ps(dst, lanes(0, n), _mm512_maskz_loadu_ps(lanes(0, n), src));
    _mm512_mask_storeu_ps(dst + 16, lanes(0, n - 16),
                          _mm512_maskz_loadu_ps(lanes(0, n - 16), src + 16));
  } else if (sw == 2) {  // 16 outputs from 32 inputs: keep the even lanes
    const __m512i even = even_lanes();
    for (int64_t i = 0; i < n; i += 16) {
      const int64_t m = std::min<int64_t>(16, n - i), reach = 2 * m - 1;
      const __m512 v0 = _mm512_maskz_loadu_ps(lanes(0, reach), src + 2 * i);
      const __m512 v1 = _mm512_maskz_loadu_ps(lanes(0, reach - 16), src + 2 * i + 16);
      _mm512_mask_storeu_ps(dst + i, lanes(0, m), _mm512_permutex2var_ps(v0, even, v1));
    }
  } else {
    for (int64_t i = 0; i < n; ++i) dst[i] = src[i * sw];
  }
}

// pack_block for a pointwise (see above) convolution, without gathers: positions run along an
// output row, so their inputs lie along an input row at stride sw. The block is cut once into
// runs that stay within one output row and one panel; every channel copies the same runs.
void pack_block_pointwise(const Geom& g, int64_t channels, const float* x, int64_t p0,
                          int64_t nc, float* dst) {
  struct Run {
    int64_t src, dst, n;  // input offset in a channel's plane, offset in dst's row 0, length
  };
  thread_local std::vector<Run> runs;
  runs.clear();
  const int64_t K = channels, Ho = g.out[1], Wo = g.out[2], sw = g.s[2];
  for (int64_t j = 0; j < nc;) {
    const int64_t p = p0 + j, row = p / Wo, ow = p % Wo, od = row / Ho, oh = row % Ho;
    const int64_t n = std::min({Wo - ow, kNr - j % kNr, nc - j});
    runs.push_back({((od * g.s[0]) * g.in[1] + oh * g.s[1]) * g.in[2] + ow * sw,
                    j / kNr * K * kNr + j % kNr, n});
    j += n;
  }
  const int64_t is = g.in_size(), tail = nc % kNr;
  float* last = dst + (nc / kNr) * K * kNr;  // the partial panel, if any
  for (int64_t c = 0; c < channels; ++c) {
    const float* xc = x + c * is;
    float* d = dst + c * kNr;
    for (const Run& r : runs) copy_strided(xc + r.src, sw, r.n, d + r.dst);
    if (tail != 0) std::fill(last + c * kNr + tail, last + (c + 1) * kNr, 0.f);
  }
}

// Packs positions [p0, p0 + nc) of im2col(x) into panels: dst[(p / 32) * K * 32 + r * 32 +
// p % 32] for r < K (K = channels * taps), zero beyond nc up to a whole panel.
// Which input element (if any) feeds position p through tap t does not depend on the channel,
// so it is worked out once per block: an element offset into the channel's plane and a
// validity bit (padding reads as zero). Each row r = (c, t) of the panels is then gathered
// from channel c's plane, 8 positions per instruction (64-bit offsets: planes of any size).
void pack_block(const Geom& g, int64_t channels, const float* x, int64_t p0, int64_t nc,
                float* dst) {
  const int64_t ks = g.k_size(), is = g.in_size();
  const int64_t K = channels * ks;
  const int64_t groups = (nc + kNr - 1) / kNr * (kNr / 8);  // 8-position groups, whole panels
  thread_local std::vector<int64_t> offsets;
  thread_local std::vector<uint8_t> valid;
  offsets.assign(static_cast<size_t>(ks * groups * 8), 0);
  valid.assign(static_cast<size_t>(ks * groups), 0);
  for (int64_t t = 0; t < ks; ++t) {
    const int64_t kd = t / (g.k[1] * g.k[2]), kh = (t / g.k[2]) % g.k[1], kw = t % g.k[2];
    int64_t* off = offsets.data() + t * groups * 8;
    uint8_t* ok = valid.data() + t * groups;
    for (int64_t j = 0; j < nc; ++j) {
      const int64_t p = p0 + j;
      const int64_t ow = p % g.out[2], oh = (p / g.out[2]) % g.out[1];
      const int64_t od = p / (g.out[2] * g.out[1]);
      const int64_t id = od * g.s[0] - g.pb[0] + kd * g.d[0];
      const int64_t ih = oh * g.s[1] - g.pb[1] + kh * g.d[1];
      const int64_t iw = ow * g.s[2] - g.pb[2] + kw * g.d[2];
      if (id < 0 || id >= g.in[0] || ih < 0 || ih >= g.in[1] || iw < 0 || iw >= g.in[2]) continue;
      off[j] = (id * g.in[1] + ih) * g.in[2] + iw;
      ok[j / 8] = static_cast<uint8_t>(ok[j / 8] | (1u << (j % 8)));
    }
  }
  for (int64_t r = 0; r < K; ++r) {
    const int64_t c = r / ks, t = r % ks;
    const float* xc = x + c * is;
    const int64_t* off = offsets.data() + t * groups * 8;
    const uint8_t* ok = valid.data() + t * groups;
    float* d = dst + r * kNr;
    for (int64_t q = 0; q < groups; ++q) {
      const __m512i idx = _mm512_loadu_si512(off + q * 8);
      const __m256 v = _mm512_mask_i64gather_ps(_mm256_setzero_ps(), ok[q], idx, xc, 4);
      _mm256_storeu_ps(d + (q * 8 / kNr) * K * kNr + q * 8 % kNr, v);
    }
  }
}


// Which of a tile's 32 columns are kept (m0: columns 0-15, m1: 16-31), and how C holds them.
// Packed: column j at C + j, the kept ones a prefix. Compact (the in-place path, whose wide
// grid has columns that are dropped): the kept columns stored one after another from C, so
// that C is Y itself and no wide copy of Y is needed.
struct Columns {
  __mmask16 m0, m1;
};

// Columns [0, n) of 32, packed.
inline Columns first_columns(int64_t n) { return {lanes(0, n), lanes(0, n - 16)}; }

// C[MR, kept columns] (row stride ldc) = (first ? bias : C) + A[MR, kc] (row stride lda) *
// B[kc, 16 NV], row k of B being the 16 NV floats at B + off[k]: a packed panel's row (off[k] =
// 32 k, see packed_rows) or a shifted window of the padded input (the in-place path). Only the
// kept columns of C are read and stored. NV = 1 leaves the panel's second half alone (its mask
// must be empty): a panel of 16 or fewer columns costs one vector per row, not two. PF > 0: row
// k + PF is prefetched at step k.
template <int MR, int PF, bool Compact, int NV>
void micro_kernel(int64_t kc, const float* A, int64_t lda, const float* B, const int64_t* off,
                   float* C, int64_t ldc, Columns cols, bool first, const float* bias) {
  static_assert(NV == 1 || NV == 2, "a panel is one or two vectors wide");
  __m512 acc0[MR], acc1[MR];
  const __mmask16 m0 = cols.m0, m1 = cols.m1;
  // Compact: the second half's columns start after the first half's, and each half moves
  // between its lanes and a prefix of memory through (un)compressing in registers.
  const int64_t n0 = Compact ? __builtin_popcount(m0) : 16;
  const __mmask16 s0 = Compact ? lanes(0, n0) : m0;
  const __mmask16 s1 = Compact ? lanes(0, __builtin_popcount(m1)) : m1;
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    if (first) {
      acc0[i] = _mm512_set1_ps(bias != nullptr ? bias[i] : 0.f);
      acc1[i] = acc0[i];
    } else if (Compact) {
      acc0[i] = _mm512_maskz_expand_ps(m0, _mm512_maskz_loadu_ps(s0, C + i * ldc));
      if (NV == 2)
        acc1[i] = _mm512_maskz_expand_ps(m1, _mm512_maskz_loadu_ps(s1, C + i * ldc + n0));
    } else {
      acc0[i] = _mm512_maskz_loadu_ps(m0, C + i * ldc);
      if (NV == 2) acc1[i] = _mm512_maskz_loadu_ps(m1, C + i * ldc + 16);
    }
  }
  const float* a[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) a[i] = A + i * lda;
  for (int64_t k = 0; k < kc; ++k) {
    const float* bk = B + off[k];
    if (PF > 0 && k + PF < kc) {
      _mm_prefetch(reinterpret_cast<const char*>(B + off[k + PF]), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(B + off[k + PF] + 31), _MM_HINT_T0);
    }
    const __m512 b0 = _mm512_loadu_ps(bk);
    const __m512 b1 = NV == 2 ? _mm512_loadu_ps(bk + 16) : b0;
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(a[i][k]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      if (NV == 2) acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
  }
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i) {
    if (Compact) {
      _mm512_mask_storeu_ps(C + i * ldc, s0, _mm512_maskz_compress_ps(m0, acc0[i]));
      if (NV == 2)
        _mm512_mask_storeu_ps(C + i * ldc + n0, s1, _mm512_maskz_compress_ps(m1, acc1[i]));
    } else {
      _mm512_mask_storeu_ps(C + i * ldc, m0, acc0[i]);
      if (NV == 2) _mm512_mask_storeu_ps(C + i * ldc + 16, m1, acc1[i]);
    }
  }
}

using MicroFn = void (*)(int64_t, const float*, int64_t, const float*, const int64_t*, float*,
                         int64_t, Columns, bool, const float*);

// The in-place path's rows of B are windows scattered over the stride phases of the input
// (a strided 3x3 touches twice the cache lines of a stride-1 one): prefetching the row 8 steps
// ahead measured 5-7% faster on strided 3x3 layers, neutral on the others. A packed panel is
// contiguous, which the hardware prefetchers follow without help.
template <int PF, bool Compact, int NV>
MicroFn micro_kernel_for(int mr) {
  static const MicroFn table[kMr + 1] = {
      nullptr,
      micro_kernel<1, PF, Compact, NV>,
      micro_kernel<2, PF, Compact, NV>,
      micro_kernel<3, PF, Compact, NV>,
      micro_kernel<4, PF, Compact, NV>,
      micro_kernel<5, PF, Compact, NV>,
      micro_kernel<6, PF, Compact, NV>,
      micro_kernel<7, PF, Compact, NV>,
      micro_kernel<8, PF, Compact, NV>,
      micro_kernel<9, PF, Compact, NV>,
      micro_kernel<10, PF, Compact, NV>,
      micro_kernel<11, PF, Compact, NV>,
      micro_kernel<12, PF, Compact, NV>};
  return table[mr];
}

// The micro-kernel for mr rows and these columns: one vector wide when the panel keeps none of
// its last 16 columns (a block's or the grid's last panel).
template <int PF, bool Compact>
MicroFn micro_for(int mr, Columns cols) {
  return cols.m1 == 0 ? micro_kernel_for<PF, Compact, 1>(mr) : micro_kernel_for<PF, Compact, 2>(mr);
}
constexpr int kNoPrefetch = 0, kPrefetchAhead = 8;

// Row offsets of a packed panel for micro_kernel: row k starts at 32 k.
const int64_t* packed_rows() {
  static const std::array<int64_t, kKc> rows = [] {
    std::array<int64_t, kKc> r{};
    for (int64_t k = 0; k < kKc; ++k) r[static_cast<size_t>(k)] = k * kNr;
    return r;
  }();
  return rows.data();
}

// A block's last few columns (nc % 16 of them, up to kDotColumns) are left out of the panels
// and computed as dot products along K instead: a panel would spend a whole vector per row on
// them (ResNet's 7x7 outputs: 49 = 3 x 16 + 1 positions; its 14x14 ones end a block on 4).
constexpr int64_t kDotColumns = 4;
int64_t dot_columns(int64_t nc) {
  const int64_t d = nc % 16;
  return d <= kDotColumns ? d : 0;
}

// C[i * ldc + c] = (bias ? bias[i] : 0) + sum_k A[i * lda + k] * X[c * K + k] for rows i < m
// and the D columns c (X: the columns' inputs, transposed to rows of K).
template <int D>
void dot_tile(int64_t K, const float* A, int64_t lda, const float* X, int64_t m, float* C,
              int64_t ldc, const float* bias) {
  constexpr int R = 4;  // rows per step: R x D accumulators
  for (int64_t i0 = 0; i0 < m; i0 += R) {
    const int rows = static_cast<int>(std::min<int64_t>(R, m - i0));
    __m512 acc[R][D];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
      for (int c = 0; c < D; ++c) acc[r][c] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k += 16) {
      const __mmask16 mk = lanes(0, K - k);
      __m512 x[D];
#pragma GCC unroll 4
      for (int c = 0; c < D; ++c) x[c] = _mm512_maskz_loadu_ps(mk, X + c * K + k);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        if (r >= rows) break;
        const __m512 av = _mm512_maskz_loadu_ps(mk, A + (i0 + r) * lda + k);
#pragma GCC unroll 4
        for (int c = 0; c < D; ++c) acc[r][c] = _mm512_fmadd_ps(av, x[c], acc[r][c]);
      }
    }
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < D; ++c)
        C[(i0 + r) * ldc + c] =
            (bias != nullptr ? bias[i0 + r] : 0.f) + sum_lanes(acc[r][c]);
  }
}

using DotFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t,
                       const float*);
constexpr DotFn kDotTiles[kDotColumns + 1] = {nullptr, dot_tile<1>, dot_tile<2>, dot_tile<3>,
                                              dot_tile<4>};

// Y rows [m0, m1), positions [p0, p0 + nc), from the weights (read in place) and the packed
// column block `bp`: panels of 32 columns, the last one one vector wide when it holds 16 or
// fewer, and the last dot_columns(nc) columns as dot products.
void block_gemm(int64_t K, int64_t P, const float* w, const float* bias, const float* bp,
                int64_t m0, int64_t m1, int64_t p0, int64_t nc, float* y) {
  const int64_t d = dot_columns(nc), nv = nc - d;
  const int64_t panels = (nv + kNr - 1) / kNr;
  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = std::min(kKc, K - k0);
    for (int64_t jp = 0; jp < panels; ++jp) {
      const float* b = bp + jp * K * kNr + k0 * kNr;
      const Columns cols = first_columns(std::min(kNr, nv - jp * kNr));
      for (int64_t i = m0; i < m1; i += kMr) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, m1 - i));
        micro_for<kNoPrefetch, false>(mr, cols)(kc, w + i * K + k0, K, b, packed_rows(),
                                                y + i * P + p0 + jp * kNr, P, cols, k0 == 0,
                                                bias != nullptr ? bias + i : nullptr);
      }
    }
  }
  if (d == 0) return;
  // The dot columns' inputs, gathered from the packed panels into rows of K.
  thread_local std::vector<float> xt;
  xt.resize(static_cast<size_t>(d * K));
  for (int64_t c = 0; c < d; ++c) {
    const int64_t j = nv + c;
    const float* src = bp + j / kNr * K * kNr + j % kNr;
    for (int64_t r = 0; r < K; ++r) xt[static_cast<size_t>(c * K + r)] = src[r * kNr];
  }
  kDotTiles[d](K, w + m0 * K, K, xt.data(), m1 - m0, y + m0 * P + p0 + nv, P,
               bias != nullptr ? bias + m0 : nullptr);
}


// --- Outputs of a few short rows: vectorised over output channels -----------------------------
//
// When an output has few positions (ResNet's 7x7 layers: 49), panels of 32 positions leave
// lanes empty (49 of 64) and the in-place grid adds its dropped columns (56 or 63 wide). Such
// layers have many output channels, so here the roles turn: a tile is a few whole output rows
// (kWideTile positions at most) times a panel of 32 output channels, the positions' inputs
// broadcast from the padded input in place and the channels' weights read as vectors from a
// copy of the panel's weights transposed to [K][32], slice by slice, by the task that uses it.

constexpr int kChannelPanel = 32;
constexpr int kWideTile = 14;  // positions per tile: 28 zmm accumulators
constexpr int64_t kChannelKc = 128;  // K rows per packed slice (16 KiB)

// All-lanes masks: the unmasked forms of these intrinsics read an undefined source, which
// GCC 12 reports as maybe-uninitialized.
constexpr __mmask16 kAll16 = 0xffff;
constexpr __mmask8 kAll8 = 0xff;

// r[j] = lane j of every r[i] (a 16 x 16 transpose): pairs of rows interleaved by 32 then by
// 64 bits leave 4 x 4 blocks in 128-bit lanes, which shuffle_f32x4 then moves into place.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(kAll16, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(kAll16, r[2 * i], r[2 * i + 1]);
  }
  __m512 u[16];  // u[4 i + c], lane L: rows 4 i .. 4 i + 3 of column 4 L + c
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, b, d));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_maskz_shuffle_f32x4(kAll16, u[c], u[4 + c], 0x44);
    const __m512 v1 = _mm512_maskz_shuffle_f32x4(kAll16, u[c], u[4 + c], 0xee);
    const __m512 v2 = _mm512_maskz_shuffle_f32x4(kAll16, u[8 + c], u[12 + c], 0x44);
    const __m512 v3 = _mm512_maskz_shuffle_f32x4(kAll16, u[8 + c], u[12 + c], 0xee);
    r[c] = _mm512_maskz_shuffle_f32x4(kAll16, v0, v2, 0x88);
    r[4 + c] = _mm512_maskz_shuffle_f32x4(kAll16, v0, v2, 0xdd);
    r[8 + c] = _mm512_maskz_shuffle_f32x4(kAll16, v1, v3, 0x88);
    r[12 + c] = _mm512_maskz_shuffle_f32x4(kAll16, v1, v3, 0xdd);
  }
}

// Transposes columns [k0, k0 + kc) of weight rows [m0, m0 + mv) (mv <= 32, rows of K) into
// dst[(k - k0) * 32 + j], zero for j >= mv, in 16 x 16 blocks.
void pack_channel_panel(const float* w, int64_t K, int64_t m0, int64_t mv, int64_t k0,
                        int64_t kc, float* dst) {
  for (int64_t h = 0; h < 2; ++h) {
    const int64_t rows = std::clamp<int64_t>(mv - 16 * h, 0, 16);
    const float* wh = w + (m0 + 16 * h) * K + k0;
    for (int64_t k = 0; k < kc; k += 16) {
      const int64_t kt = std::min<int64_t>(16, kc - k);
      const __mmask16 m = lanes(0, kt);
      __m512 r[16];
      for (int64_t i = 0; i < 16; ++i)
        r[i] = i < rows ? _mm512_maskz_loadu_ps(m, wh + i * K + k) : _mm512_setzero_ps();
      transpose16(r);
      for (int64_t j = 0; j < kt; ++j)
        _mm512_storeu_ps(dst + (k + j) * kChannelPanel + 16 * h, r[j]);
    }
  }
}

// acc[i * 32 + j] = (first ? bias[j] : acc[i * 32 + j]) + sum_k<kc in(i, k) * wt[k * 32 + j]
// for the tile's R rows of W positions: position (r, i) reads in[k] at q + r * wq + i + off[k]
// (q: the padded input at the tile's first position, wq: a phase row's length).
template <int W, int R>
void channel_tile(int64_t kc, const float* q, int64_t wq, const int64_t* off, const float* wt,
                  const float* bias32, bool first, float* acc) {
  constexpr int MR = W * R;
  __m512 acc0[MR], acc1[MR];
  const float* init = first ? bias32 : acc;
  const int64_t step = first ? 0 : kChannelPanel;
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    acc0[i] = _mm512_loadu_ps(init + i * step);
    acc1[i] = _mm512_loadu_ps(init + i * step + 16);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* s = q + off[k];
    const __m512 b0 = _mm512_loadu_ps(wt + k * kChannelPanel);
    const __m512 b1 = _mm512_loadu_ps(wt + k * kChannelPanel + 16);
#pragma GCC unroll 14
    for (int i = 0; i < MR; ++i) {
      const __m512 av = _mm512_set1_ps(s[(i / W) * wq + i % W]);
      acc0[i] = _mm512_fmadd_ps(av, b0, acc0[i]);
      acc1[i] = _mm512_fmadd_ps(av, b1, acc1[i]);
    }
  }
#pragma GCC unroll 14
  for (int i = 0; i < MR; ++i) {
    _mm512_storeu_ps(acc + i * kChannelPanel, acc0[i]);
    _mm512_storeu_ps(acc + i * kChannelPanel + 16, acc1[i]);
  }
}

using ChannelTileFn = void (*)(int64_t, const float*, int64_t, const int64_t*, const float*,
                               const float*, bool, float*);

template <int W, size_t... R>
constexpr std::array<ChannelTileFn, sizeof...(R)> channel_tiles_of(std::index_sequence<R...>) {
  return {channel_tile<W, static_cast<int>(R) + 1>...};
}

template <int W>
ChannelTileFn channel_tile_rows(int64_t r) {
  static constexpr auto table = channel_tiles_of<W>(std::make_index_sequence<kWideTile / W>{});
  return table[static_cast<size_t>(r - 1)];
}

// The tile for r rows of w positions (1 <= w, 1 <= r, r * w <= kWideTile).
ChannelTileFn channel_tile_for(int64_t w, int64_t r) {
  static constexpr ChannelTileFn (*by_width[kWideTile + 1])(int64_t) = {
      nullptr,
      channel_tile_rows<1>,
      channel_tile_rows<2>,
      channel_tile_rows<3>,
      channel_tile_rows<4>,
      channel_tile_rows<5>,
      channel_tile_rows<6>,
      channel_tile_rows<7>,
      channel_tile_rows<8>,
      channel_tile_rows<9>,
      channel_tile_rows<10>,
      channel_tile_rows<11>,
      channel_tile_rows<12>,
      channel_tile_rows<13>,
      channel_tile_rows<14>};
  return by_width[w](r);
}

// True where conv_channel_panels takes an output of P positions in rows of Wo, for M output
// channels and a kernel of `taps` taps. Measured on ResNet-18's 7x7 layers (P = 49, 2 threads,
// ONNX Runtime timed in the same rounds): 3x3/2 from 14x14 0.95-1.01 x/ort against 1.09-1.14
// with the position panels, 3x3/1 at 7x7 0.79-0.82 against 1.04-1.06. A strided 1x1 has too
// few multiply-adds per weight to repay the transposed copy (1.3-1.5x the time of the packed
// path), and few output channels leave the channel panels as empty as the position panels.
bool channel_panels(int64_t Wo, int64_t P, int64_t M, int64_t taps) {
  return Wo >= 1 && Wo <= kWideTile && P <= 64 && M >= 64 && taps > 1;
}

// Y[M, Ho x Wo] from the padded input's phases `xp` (row length wq; tap k of position (oh, ow)
// at xp + off[k] + oh * wq + ow), one task per panel of 32 output channels.
void conv_channel_panels(int64_t K, int64_t M, int64_t Ho, int64_t Wo, int64_t wq,
                         const float* xp, const int64_t* off, const float* w,
                         const float* bias, float* y) {
  const int64_t P = Ho * Wo;
  const int64_t rows_per_tile = kWideTile / Wo;  // Wo <= kWideTile: channel_panels
  const int64_t npanels = (M + kChannelPanel - 1) / kChannelPanel;
  const int64_t work = K * P * M;
  const int64_t ntiles = (Ho + rows_per_tile - 1) / rows_per_tile;
  parallel_for(npanels, work >= 4 * kParallelGrain ? 1 : npanels, [&](int64_t t0, int64_t t1) {
    float* wt = scratch<float>(static_cast<size_t>(kChannelKc * kChannelPanel));
    thread_local std::vector<float> tile_sums;  // per tile, kept between K slices
    tile_sums.resize(static_cast<size_t>(ntiles * kWideTile * kChannelPanel));
    float* acc = tile_sums.data();
    alignas(64) float b32[kChannelPanel];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t m0 = t * kChannelPanel, mv = std::min<int64_t>(kChannelPanel, M - m0);
      for (int64_t j = 0; j < kChannelPanel; ++j)
        b32[j] = bias != nullptr && j < mv ? bias[m0 + j] : 0.f;
      for (int64_t k0 = 0; k0 < K; k0 += kChannelKc) {
        const int64_t kc = std::min(kChannelKc, K - k0);
        pack_channel_panel(w, K, m0, mv, k0, kc, wt);
        for (int64_t ti = 0; ti < ntiles; ++ti) {
          const int64_t oh = ti * rows_per_tile, r = std::min(rows_per_tile, Ho - oh);
          channel_tile_for(Wo, r)(kc, xp + oh * wq, wq, off + k0, wt, b32, k0 == 0,
                                  acc + ti * kWideTile * kChannelPanel);
        }
      }
      for (int64_t ti = 0; ti < ntiles; ++ti) {
        const int64_t oh = ti * rows_per_tile, n = std::min(rows_per_tile, Ho - oh) * Wo;
        const float* a = acc + ti * kWideTile * kChannelPanel;
        float* yt = y + m0 * P + oh * Wo;
        for (int64_t j = 0; j < mv; ++j)
          for (int64_t i = 0; i < n; ++i) yt[j * P + i] = a[i * kChannelPanel + j];
      }
    }
  });
}

// 2-D/1-D convolution without im2col (the caller checks that the depth axis is trivial). The
// zero-padded input is split by stride phase: with strides (sh, sw),
// xp[c][a][b][i][j] = padded x[c][i * sh + a][j * sw + b], each phase Hq x Wq.
// The output is computed on a "wide" grid of Ho x Wq positions, p = oh * Wq + ow; then tap
// (c, kh, kw) of position p is xp[c][(kh * dh) % sh][(kw * dw) % sw][oh + (kh * dh) / sh]
// [ow + (kw * dw) / sw]: a fixed offset per tap plus p, so the B operand is read in place.
// Columns ow >= Wo of the wide grid are computed and dropped: the kernel stores each panel's
// kept columns compacted, straight into Y. Small outputs with many output channels go to
// conv_channel_panels instead, on the same padded copy.
void conv_direct(const Geom& g, int64_t channels, int64_t M, const float* x, const float* w,
                 const float* bias, float* y) {
  const int64_t H = g.in[1], W = g.in[2], Ho = g.out[1], Wo = g.out[2];
  const int64_t sh = g.s[1], sw = g.s[2];
  const int64_t Hp = H + g.pb[1] + g.pe[1], Wp = W + g.pb[2] + g.pe[2];
  // Stride 1 across: a row's right padding and the next row's left padding are the same zeros
  // (a tap past a row's end reads the next row's left padding), so rows start W + max(left,
  // right) apart, not Wp apart: a padded 3x3 drops one column per output row, not two (28x28:
  // a grid of 812 columns, not 840; 0.94x the time at 128 channels, 0.97x at 64 on 56x56).
  const int64_t Hq = (Hp + sh - 1) / sh;
  const int64_t Wq = sw == 1 ? std::max(W + std::max(g.pb[2], g.pe[2]), Wo) : (Wp + sw - 1) / sw;
  const int64_t plane = Hq * Wq;
  const int64_t K = channels * g.k_size();
  const int64_t Pw = Ho * Wq, panels = (Pw + kNr - 1) / kNr, width = panels * kNr;
  // Only the phases some tap reads are kept (a strided 1x1 needs one): slot[a * sw + b].
  std::vector<int64_t> slot(static_cast<size_t>(sh * sw), -1);
  int64_t nph = 0;
  for (int64_t t = 0; t < g.k_size(); ++t) {
    const int64_t eh = (t / g.k[2]) * g.d[1], ew = (t % g.k[2]) * g.d[2];
    int64_t& sl = slot[static_cast<size_t>((eh % sh) * sw + ew % sw)];
    if (sl < 0) sl = nph++;
  }
  std::vector<int64_t> offv(static_cast<size_t>(K));
  int64_t* off = offv.data();
  int64_t reach = 0;
  for (int64_t r = 0; r < K; ++r) {
    const int64_t c = r / g.k_size(), t = r % g.k_size();
    const int64_t eh = (t / g.k[2]) * g.d[1], ew = (t % g.k[2]) * g.d[2];
    const int64_t sl = slot[static_cast<size_t>((eh % sh) * sw + ew % sw)];
    off[r] = (c * nph + sl) * plane + (eh / sh) * Wq + ew / sw;
    reach = std::max(reach, off[r] + width);
  }
  // The last panel of the wide grid reads past the phases' end: zeroed slack.
  const size_t xp_n = static_cast<size_t>(std::max(reach, channels * nph * plane));
  float* xp = direct_scratch(xp_n);
  const int64_t P = Ho * Wo;
  // Each channel's phases are zeroed (the padding) by the thread that fills them, while they
  // are in its cache (at 2 threads 3-10% faster on the 56x56 layers than one memset up front);
  // here only the slack past the last channel.
  const int64_t filled = channels * nph * plane;
  std::memset(xp + filled, 0, (xp_n - static_cast<size_t>(filled)) * sizeof(float));
  const __m512i even = even_lanes();
  const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
  parallel_for(channels, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(H * W, 1)),
               [&](int64_t c0, int64_t c1) {
                 std::memset(xp + c0 * nph * plane, 0,
                             static_cast<size_t>((c1 - c0) * nph * plane) * sizeof(float));
                 for (int64_t c = c0; c < c1; ++c)
                   for (int64_t h = 0; h < H; ++h) {
                     const int64_t hp = h + g.pb[1];
                     const float* src = x + (c * H + h) * W;
                     // Phase b of this row (or null when no tap reads it): dst(b)[j] holds
                     // padded column j * sw + b.
                     const int64_t* sl = slot.data() + (hp % sh) * sw;
                     if (std::all_of(sl, sl + sw, [](int64_t v) { return v < 0; }))
                       continue;  // no tap reads this row (odd rows of a strided 1x1)
                     float* row = xp + c * nph * plane + (hp / sh) * Wq;
                     auto dst = [&](int64_t b) {
                       return sl[b] < 0 ? nullptr : row + sl[b] * plane;
                     };
                     if (sw == 1) {
                       if (float* d = dst(0))
                         std::memcpy(d + g.pb[2], src, static_cast<size_t>(W) * sizeof(float));
                       continue;
                     }
                     int64_t iw = 0;
                     if (sw == 2) {  // split 32 inputs into even and odd padded columns
                       const int64_t b0 = g.pb[2] % 2;  // phase of input column 0
                       float* d0 = dst(b0);
                       float* d1 = dst(1 - b0);
                       if (d0 != nullptr) d0 += g.pb[2] / 2;
                       if (d1 != nullptr) d1 += (g.pb[2] + 1) / 2;
                       for (; iw < W; iw += 32) {
                         // n inputs: ceil(n / 2) even ones, floor(n / 2) odd ones.
                         const int64_t n = std::min<int64_t>(32, W - iw);
                         const __m512 v0 = _mm512_maskz_loadu_ps(lanes(0, n), src + iw);
                         const __m512 v1 = _mm512_maskz_loadu_ps(lanes(0, n - 16), src + iw + 16);
                         if (d0 != nullptr)
                           _mm512_mask_storeu_ps(d0 + iw / 2, lanes(0, (n + 1) / 2),
                                                 _mm512_permutex2var_ps(v0, even, v1));
                         if (d1 != nullptr)
                           _mm512_mask_storeu_ps(d1 + iw / 2, lanes(0, n / 2),
                                                 _mm512_permutex2var_ps(v0, odd, v1));
                       }
                     }
                     // Other strides: padded column wp = iw + pb goes to phase wp % sw, wp / sw.
                     int64_t b = (iw + g.pb[2]) % sw, j = (iw + g.pb[2]) / sw;
                     for (; iw < W; ++iw) {
                       if (sl[b] >= 0) row[sl[b] * plane + j] = src[iw];
                       if (++b == sw) {
                         b = 0;
                         ++j;
                       }
                     }
                   }
               });
  if (channel_panels(Wo, P, M, g.k_size())) {
    conv_channel_panels(K, M, Ho, Wo, Wq, xp, off, w, bias, y);
    return;
  }
  // Panel jp's kept columns (wide positions p < Pw with p % Wq < Wo) and where in a row of Y
  // the first of them goes (the number kept before it). Writing Y directly, rather than a wide
  // [M, width] buffer copied out afterwards, keeps that buffer (3.3 MiB on ResNet-18's first
  // layer) out of the caches.
  std::vector<Columns> cols(static_cast<size_t>(panels));
  std::vector<int64_t> yoff(static_cast<size_t>(panels));
  int64_t ow = 0, kept_before = 0;  // ow: p % Wq, followed as p advances
  for (int64_t jp = 0; jp < panels; ++jp) {
    yoff[static_cast<size_t>(jp)] = kept_before;
    uint32_t kept = 0;
    for (int64_t l = 0; l < kNr; ++l) {
      if (jp * kNr + l < Pw && ow < Wo) {
        kept |= 1u << l;
        ++kept_before;
      }
      if (++ow == Wq) ow = 0;
    }
    cols[static_cast<size_t>(jp)] = {static_cast<__mmask16>(kept & 0xffffu),
                                     static_cast<__mmask16>(kept >> 16)};
  }
  const int64_t tiles = (M + kMr - 1) / kMr;
  // Tasks: groups of panels x ranges of micro-tiles, about 4 per thread.
  // Few panels (small outputs, large weights): one panel group, so that each weight slice
  // is read once and reused from L1 for every panel (the tile loop then runs outermost).
  const int64_t threads = num_threads();
  const int64_t want = 4 * threads;
  const bool few = panels <= kFewPanels;
  // Otherwise two panel groups per thread, each split into ranges of tiles: at 2 threads this
  // measured 3-9% faster than a group per task (and 5-12% faster than four times as many).
  const int64_t pgroups = few ? 1 : std::min(panels, 2 * threads);
  const int64_t msplit = std::min(tiles, std::max<int64_t>(1, want / pgroups));
  const int64_t ntasks = pgroups * msplit;
  // The pool hands the tasks out in contiguous shares, the same ones to the same core call after
  // call (2 threads: 1-10% faster than claiming them one at a time, first come, first served);
  // a thread done with its share helps with the others'.
  const int64_t work = K * width * M;  // multiply-adds
  parallel_for(ntasks, work >= 4 * kParallelGrain ? 1 : ntasks, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t pg = t / msplit, ms = t % msplit;
      const int64_t j0 = panels * pg / pgroups, j1 = panels * (pg + 1) / pgroups;
      const int64_t m0 = tiles * ms / msplit * kMr;
      const int64_t m1 = std::min(M, tiles * (ms + 1) / msplit * kMr);
      auto tile = [&](int64_t i, int64_t k0, int64_t jp) {
        const int mr = static_cast<int>(std::min<int64_t>(kMr, m1 - i));
        const size_t j = static_cast<size_t>(jp);
        micro_for<kPrefetchAhead, true>(mr, cols[j])(
            std::min(kKc, K - k0), w + i * K + k0, K, xp + jp * kNr, off + k0,
            y + i * P + yoff[j], P, cols[j], k0 == 0, bias != nullptr ? bias + i : nullptr);
      };
      if (few) {
        // Each weight row is read from start to end once: long sequential runs that the
        // prefetchers follow (the weights of these layers come from memory, not cache).
        for (int64_t i = m0; i < m1; i += kMr)
          for (int64_t k0 = 0; k0 < K; k0 += kKc)
            for (int64_t jp = j0; jp < j1; ++jp) tile(i, k0, jp);
      } else {
        for (int64_t k0 = 0; k0 < K; k0 += kKc)
          for (int64_t jp = j0; jp < j1; ++jp)
            for (int64_t i = m0; i < m1; i += kMr) tile(i, k0, jp);
      }
    }
  });
}

#pragma GCC pop_options
#endif  // XHAL_CPU_CONV_X86

}  // namespace

bool conv_gemm_f32_available() {
#if XHAL_CPU_CONV_X86
  // vec::isa_name() honours XHAL_CPU_ISA, so the tests can run the other path too.
  static const bool ok = std::strcmp(vec::isa_name(), "avx512") == 0;
  return ok;
#else
  return false;
#endif
}

void conv_gemm_f32(const Geom& g, int64_t channels, int64_t M, const float* x, const float* w,
                   const float* bias, float* y) {
#if XHAL_CPU_CONV_X86
  // Strided 1x1 convolutions measured faster through the packed path.
  if (g.in[0] == 1 && g.k[0] == 1 && g.pb[0] == 0 && g.pe[0] == 0 &&
      ((g.s[1] == 1 && g.s[2] == 1) || g.k[1] * g.k[2] > 1)) {
    conv_direct(g, channels, M, x, w, bias, y);
    return;
  }
  const int64_t K = channels * g.k_size(), P = g.out_size();
  // Column blocks of whole panels, as even as the L2 budget allows.
  const int64_t total_panels = (P + kNr - 1) / kNr;
  const int64_t max_panels = std::max<int64_t>(
      1, kBlockBytes / static_cast<int64_t>(sizeof(float)) / std::max<int64_t>(K, 1) / kNr);
  const int64_t want = 2 * static_cast<int64_t>(num_threads());
  // At least one block per task where the panels allow: a block's packing is not repeated.
  // Blocks differ by at most one panel (7,6,6,6 rather than 7,7,7,4), so that threads taking
  // the same number of blocks finish together.
  const int64_t nblocks = std::max((total_panels + max_panels - 1) / max_panels,
                                   std::min(want, total_panels));
  auto first_panel = [&](int64_t blk) { return total_panels * blk / nblocks; };
  const int64_t block_panels = (total_panels + nblocks - 1) / nblocks;  // the largest block
  // Few column blocks (small outputs): split the output channels too, in whole micro-tiles,
  // and order the tasks tile range first, so that a thread's share is all the columns of some
  // output channels: the blocks cost unequal time once a block's last columns go narrow or to
  // dot products (ResNet's 49 positions: 32 columns, then 16 + 1), and each thread packing
  // every block (K x 49 floats there) costs less than waiting for the wider block's thread
  // (1x1/2 at 14x14, same process: 0.83-0.87x the time of block-major tasks on two threads).
  int64_t msplit = 1;
  if (nblocks < want) msplit = std::min((want + nblocks - 1) / nblocks, (M + kMr - 1) / kMr);
  const bool by_tiles = msplit > 1;
  const int64_t tiles = (M + kMr - 1) / kMr;
  const int64_t tasks = nblocks * msplit;
  const bool by_rows = pointwise(g) && g.out[2] >= kPointwiseMinRow;
  // One task is at least Nc x 12 x K multiply-adds: always worth a thread for these sizes.
  const int64_t grain = K * block_panels * kNr * kMr >= kParallelGrain ? 1 : tasks;
  parallel_for(tasks, grain, [&](int64_t t0, int64_t t1) {
    float* buf = scratch<float>(static_cast<size_t>(block_panels * K * kNr));
    int64_t packed_block = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t blk = by_tiles ? t % nblocks : t / msplit;
      const int64_t ms = by_tiles ? t / nblocks : t % msplit;
      const int64_t p0 = first_panel(blk) * kNr;
      const int64_t n = std::min(P, first_panel(blk + 1) * kNr) - p0;
      if (blk != packed_block) {
        (by_rows ? pack_block_pointwise : pack_block)(g, channels, x, p0, n, buf);
        packed_block = blk;
      }
      const int64_t m0 = std::min(M, tiles * ms / msplit * kMr);
      const int64_t m1 = std::min(M, tiles * (ms + 1) / msplit * kMr);
      if (m0 < m1) block_gemm(K, P, w, bias, buf, m0, m1, p0, n, y);
    }
  });
#else
  (void)g, (void)channels, (void)M, (void)x, (void)w, (void)bias, (void)y;
#endif
}

}  // namespace convk
}  // namespace xhal_cpu
