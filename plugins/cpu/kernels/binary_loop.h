// The elementwise family's shared machinery: an N-operand broadcast loop nest, float16/bfloat16
// widening in blocks, and the binary run that every two-operand kernel (add ... pow, mod,
// min/max, comparisons, logic) is built from.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "../half.h"
#include "common.h"
#include "stream_store.h"

namespace xhal_cpu {
namespace ew {
namespace {  // internal linkage in each kernel file: target_clones needs it

// ---- dtypes --------------------------------------------------------------------------------

// 2-byte float storage types: computed in float32.
template <class T>
inline constexpr bool kNarrow = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// The type an operand is computed in: float for the 2-byte floats, itself otherwise.
template <class T>
using calc_t = std::conditional_t<kNarrow<T>, float, T>;

inline void widen(const Half* s, float* d, int64_t n) { half_to_float_n(s, d, n); }
inline void widen(const BFloat16* s, float* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] = bfloat16_to_float(s[i].bits);
}
inline void narrow(const float* s, Half* d, int64_t n) { float_to_half_n(s, d, n); }
inline void narrow(const float* s, BFloat16* d, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i].bits = float_to_bfloat16(s[i]);
}

// ---- broadcast loop nest -------------------------------------------------------------------

// The broadcast of N operands as a loop nest over the output: dims (outermost first) with each
// operand's element strides (0 where broadcast). Size-1 dims are dropped and neighbours that
// step through every operand alike are merged, so same-shape and scalar cases are one flat run.
template <int N>
struct Loop {
  int rank = 0;
  int64_t dims[kMaxRank];
  int64_t st[N][kMaxRank];
};

// `in[k]` must broadcast to `out` (checked by the caller).
template <int N>
Loop<N> make_loop(const Dims* const (&in)[N], const Dims& out) {
  int64_t s[N][kMaxRank];
  for (int k = 0; k < N; ++k) broadcast_strides(*in[k], out, s[k]);
  Loop<N> l;
  for (int i = 0; i < out.rank; ++i) {
    if (out[i] == 1) continue;
    const int j = l.rank - 1;
    bool merge = j >= 0;
    for (int k = 0; k < N && merge; ++k) merge = l.st[k][j] == s[k][i] * out[i];
    if (merge) {  // outer dim j steps exactly over inner dim i: merge them
      l.dims[j] *= out[i];
      for (int k = 0; k < N; ++k) l.st[k][j] = s[k][i];
      continue;
    }
    l.dims[l.rank] = out[i];
    for (int k = 0; k < N; ++k) l.st[k][l.rank] = s[k][i];
    ++l.rank;
  }
  if (l.rank == 0) {  // every dim is 1 (or rank 0): one element
    l.rank = 1;
    l.dims[0] = 1;
    for (int k = 0; k < N; ++k) l.st[k][0] = 0;
  }
  return l;
}

// Visits output elements [begin, end) as innermost runs: run(off, inner_strides, pos, len) with
// each operand's element offset of the run's first element, its innermost stride (0 or 1) and
// the output position.
template <int N, class Run>
void loop_range(const Loop<N>& l, int64_t begin, int64_t end, Run&& run) {
  const int r = l.rank;
  int64_t idx[kMaxRank];
  int64_t off[N] = {};
  int64_t inner_st[N];
  int64_t rem = begin;
  for (int d = r - 1; d >= 0; --d) {
    idx[d] = rem % l.dims[d];
    rem /= l.dims[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * l.st[k][d];
  }
  for (int k = 0; k < N; ++k) inner_st[k] = l.st[k][r - 1];
  const int64_t inner = l.dims[r - 1];
  for (int64_t pos = begin; pos < end;) {
    const int64_t len = std::min(inner - idx[r - 1], end - pos);
    run(static_cast<const int64_t*>(off), static_cast<const int64_t*>(inner_st), pos, len);
    pos += len;
    idx[r - 1] += len;
    for (int k = 0; k < N; ++k) off[k] += len * inner_st[k];
    // Carry into the outer dims once the innermost run is complete.
    for (int d = r - 1; d > 0 && idx[d] == l.dims[d]; --d) {
      for (int k = 0; k < N; ++k) off[k] += l.st[k][d - 1] - idx[d] * l.st[k][d];
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

// The whole output of n elements, split across the thread pool.
template <int N, class Run>
void loop_all(const Loop<N>& l, int64_t n, const Run& run) {
  parallel_for(n, kParallelGrain, [&](int64_t begin, int64_t end) { loop_range(l, begin, end, run); });
}

// ---- binary runs ---------------------------------------------------------------------------

// A functor may declare `static constexpr bool heavy = true` (pow, mod): its loop is
// compute-bound, so its output is not streamed (stream_store.h).
template <class F, class = void>
inline constexpr bool kHeavy = false;
template <class F>
inline constexpr bool kHeavy<F, std::void_t<decltype(F::heavy)>> = F::heavy;

// c[i] = f(a[i * sa], b[i * sb]) for i < n, sa and sb each 0 or 1, over compute types. The four
// stride cases get their own loop so each one vectorises.
template <class F, class A, class B, class C>
XHAL_CPU_SIMD_CLONES void run2(const A* a, int64_t sa, const B* b, int64_t sb, C* c, int64_t n) {
  const F f{};
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) c[i] = static_cast<C>(f(a[i], b[i]));
  } else if (sb) {
    const A x = a[0];
    for (int64_t i = 0; i < n; ++i) c[i] = static_cast<C>(f(x, b[i]));
  } else if (sa) {
    const B y = b[0];
    for (int64_t i = 0; i < n; ++i) c[i] = static_cast<C>(f(a[i], y));
  } else {
    const C v = static_cast<C>(f(a[0], b[0]));
    for (int64_t i = 0; i < n; ++i) c[i] = v;
  }
}

// One run of a binary op on storage types TA, TB -> TC; 2-byte floats are widened to float32
// in blocks, computed, and narrowed once.
template <class F, class TA, class TB, class TC>
void binary_run(const TA* a, int64_t sa, const TB* b, int64_t sb, TC* c, int64_t n) {
  if constexpr (!kNarrow<TA> && !kNarrow<TB> && !kNarrow<TC>) {
    run2<F>(a, sa, b, sb, c, n);
  } else {
    constexpr int64_t kBlock = 512;
    calc_t<TA> fa[kNarrow<TA> ? kBlock : 1];
    calc_t<TB> fb[kNarrow<TB> ? kBlock : 1];
    calc_t<TC> fc[kNarrow<TC> ? kBlock : 1];
    (void)fa;
    (void)fb;
    (void)fc;
    for (int64_t off = 0; off < n; off += kBlock) {
      const int64_t m = std::min(kBlock, n - off);
      const calc_t<TA>* pa;
      const calc_t<TB>* pb;
      if constexpr (kNarrow<TA>) {
        widen(sa ? a + off : a, fa, sa ? m : 1);
        pa = fa;
      } else {
        pa = sa ? a + off : a;
      }
      if constexpr (kNarrow<TB>) {
        widen(sb ? b + off : b, fb, sb ? m : 1);
        pb = fb;
      } else {
        pb = sb ? b + off : b;
      }
      if constexpr (kNarrow<TC>) {
        run2<F>(pa, sa, pb, sb, fc, m);
        narrow(fc, c + off, m);
      } else {
        run2<F>(pa, sa, pb, sb, c + off, m);
      }
    }
  }
}

// Checks that A and B broadcast to C's shape. `what` names the op in messages.
inline xhal_status_t check_broadcast2(const char* what, const Dims& da, const Dims& db,
                                      const Dims& dc) {
  Dims expect;
  if (!broadcast_dims(da, db, &expect))
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: shapes %s and %s do not broadcast", what,
                to_string(da).c_str(), to_string(db).c_str());
  if (expect != dc)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: output has shape %s but the inputs %s and %s broadcast to %s", what,
                to_string(dc).c_str(), to_string(da).c_str(), to_string(db).c_str(),
                to_string(expect).c_str());
  return XHAL_OK;
}

// A complete binary kernel: validates A (TA), B (TB) and C (TC), then C = F(A, B) broadcast.
template <class F, class TA, class TB, class TC>
xhal_status_t binary_apply(const char* name, const xhal_kernel_context_t* ctx,
                           const xhal_tensor_t* A, const xhal_tensor_t* B, xhal_tensor_t* C) {
  XHAL_CPU_TRY(check_context(name, ctx));
  XHAL_CPU_TRY(check_tensor(name, "input A", A, DType<TA>::id));
  XHAL_CPU_TRY(check_tensor(name, "input B", B, DType<TB>::id));
  XHAL_CPU_TRY(check_tensor(name, "output", C, DType<TC>::id));
  const Dims da = dims_of(A), db = dims_of(B), dc = dims_of(C);
  XHAL_CPU_TRY(check_broadcast2(name, da, db, dc));
  const int64_t n = dc.numel();
  if (n == 0) return XHAL_OK;
  const Dims* const in[2] = {&da, &db};
  const Loop<2> loop = make_loop<2>(in, dc);
  const TA* a = data_as<const TA>(A);
  const TB* b = data_as<const TB>(B);
  TC* c = data_as<TC>(C);
  // Streaming pays only for memory-bound ops and long runs (short ones would write partial
  // cache lines).
  const bool stream = !kHeavy<F> && loop.dims[loop.rank - 1] >= 1024 &&
                      outgrows_caches(numel(A) * static_cast<int64_t>(sizeof(TA)) +
                                    numel(B) * static_cast<int64_t>(sizeof(TB)) +
                                    n * static_cast<int64_t>(sizeof(TC)));
  loop_all(loop, n, [&](const int64_t* off, const int64_t* st, int64_t pos, int64_t len) {
    write_streamed(stream, c + pos, len, [&](TC* out, int64_t o, int64_t m) {
      binary_run<F, TA, TB, TC>(a + off[0] + o * st[0], st[0], b + off[1] + o * st[1], st[1],
                                out, m);
    });
  });
  return XHAL_OK;
}

}  // namespace
}  // namespace ew
}  // namespace xhal_cpu
