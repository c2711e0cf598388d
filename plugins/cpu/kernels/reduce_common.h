// The engine shared by the ONNX-18 reductions (reduce_sum, reduce_mean, reduce_max,
// reduce_min, reduce_prod): argument checks, axis normalisation, and a reduction over any set
// of axes driven by a policy that says how to accumulate.
//
// Size-1 dims are dropped and neighbouring dims of the same kind merged, so the input is
// [kept, reduced, kept, reduced, ...]. The innermost reduced group is reduced first, as
// [O, R, I]: rows (I == 1) with eight interleaved partial accumulators (vectorises, and bounds
// the rounding error of sums like a shallow pairwise sum), columns (I > 1) with contiguous
// vector updates of I accumulators; the next group reduces the accumulators, and so on.
// Outer rows run on the thread pool; a few long rows are split into fixed chunks, so results
// never depend on scheduling.
#pragma once

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>
#include <vector>

#include "common.h"

namespace xhal_cpu {
namespace reduce_detail {

// T -> accumulator type (Half and BFloat16 widen to float; others convert as C++ does).
template <class Acc, class In>
inline Acc to_acc(In v) {
  if constexpr (std::is_same_v<In, Half>)
    return static_cast<Acc>(half_to_float(v.bits));
  else if constexpr (std::is_same_v<In, BFloat16>)
    return static_cast<Acc>(bfloat16_to_float(v.bits));
  else
    return static_cast<Acc>(v);
}

// Accumulator -> T, rounding once.
template <class T, class Acc>
inline T from_acc(Acc v) {
  if constexpr (std::is_same_v<T, Half>)
    return Half{float_to_half(static_cast<float>(v))};
  else if constexpr (std::is_same_v<T, BFloat16>)
    return BFloat16{float_to_bfloat16(static_cast<float>(v))};
  else
    return static_cast<T>(v);  // unsigned -> signed keeps the two's complement bits
}

// Sum of n floats, accurately and fast: blocks of 256 summed in float32 over 16 interleaved
// lanes (each lane adds 16 values: vectorises at full float32 width), the lanes and blocks
// then added in float64.
XHAL_CPU_SIMD_CLONES inline double sum_f32_blocked(const float* x, int64_t n) {
  constexpr int64_t kBlock = 256;
  double total = 0.0;
  int64_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    float acc[16] = {};
    for (int64_t b = 0; b < kBlock; b += 16)
      for (int k = 0; k < 16; ++k) acc[k] += x[i + b + k];
    double lanes[4] = {};
    for (int k = 0; k < 16; ++k) lanes[k & 3] += static_cast<double>(acc[k]);
    total += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
  for (; i < n; ++i) total += static_cast<double>(x[i]);
  return total;
}

// Policies that add (sum, mean) say so with `static constexpr bool kAdditive = true`; float32
// rows of those use sum_f32_blocked.
template <class P, class = void>
struct Additive : std::false_type {};
template <class P>
struct Additive<P, std::void_t<decltype(P::kAdditive)>> : std::bool_constant<P::kAdditive> {};

// Policies that find a floating-point max or min say `static constexpr int kExtreme = +1 or -1`;
// their rows keep 16 lanes of plain max/min (vectorises to max/min instructions) and 16 lanes
// adding up v - v, which stays 0 unless a NaN or an infinity passed; only then is the row
// searched for a NaN, which wins.
template <class P, class = void>
struct Extreme : std::integral_constant<int, 0> {};
template <class P>
struct Extreme<P, std::void_t<decltype(P::kExtreme)>> : std::integral_constant<int, P::kExtreme> {};

template <int kSign, class Acc, class In>
inline Acc extreme_row(const In* x, int64_t n) {
  Acc best[16], flag[16];
  const Acc first = to_acc<Acc>(x[0]);
  for (int k = 0; k < 16; ++k) {
    best[k] = first;
    flag[k] = Acc(0);
  }
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
#pragma GCC unroll 1  // keep the lane loop for the loop vectoriser (it if-converts the select)
    for (int k = 0; k < 16; ++k) {
      const Acc v = to_acc<Acc>(x[i + k]);
      best[k] = (kSign > 0 ? v > best[k] : v < best[k]) ? v : best[k];
      flag[k] += v - v;
    }
  Acc m = first, f = first - first;
  for (int k = 0; k < 16; ++k) {
    m = (kSign > 0 ? best[k] > m : best[k] < m) ? best[k] : m;
    f += flag[k];
  }
  for (; i < n; ++i) {
    const Acc v = to_acc<Acc>(x[i]);
    m = (kSign > 0 ? v > m : v < m) ? v : m;
    f += v - v;
  }
  if (f != f)  // a NaN or an infinity: look for a NaN
    for (int64_t j = 0; j < n; ++j)
      if (to_acc<Acc>(x[j]) != to_acc<Acc>(x[j])) return to_acc<Acc>(x[j]);
  return m;
}

template <class P, class In>
XHAL_CPU_SIMD_CLONES typename P::Acc reduce_row(const In* x, int64_t n) {
  using Acc = typename P::Acc;
  if constexpr (Additive<P>::value && std::is_same_v<In, float> && std::is_same_v<Acc, double>)
    return sum_f32_blocked(x, n);
  if constexpr (Extreme<P>::value != 0)
    if (n > 0) return extreme_row<Extreme<P>::value, Acc>(x, n);
  Acc acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = P::identity();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] = P::combine(acc[k], to_acc<Acc>(x[i + k]));
  Acc s = P::combine(P::combine(P::combine(acc[0], acc[1]), P::combine(acc[2], acc[3])),
                     P::combine(P::combine(acc[4], acc[5]), P::combine(acc[6], acc[7])));
  for (; i < n; ++i) s = P::combine(s, to_acc<Acc>(x[i]));
  return s;
}

// out[j] = combine over r < R of x[r * stride + j], for j < w.
template <class P, class In>
XHAL_CPU_SIMD_CLONES void reduce_columns(const In* x, int64_t R, int64_t stride, int64_t w,
                                         typename P::Acc* out) {
  using Acc = typename P::Acc;
  for (int64_t j = 0; j < w; ++j) out[j] = to_acc<Acc>(x[j]);
  for (int64_t r = 1; r < R; ++r) {
    const In* row = x + r * stride;
    for (int64_t j = 0; j < w; ++j) out[j] = P::combine(out[j], to_acc<Acc>(row[j]));
  }
}

// out[o, i] = combine over r of x[o, r, i] for x of shape [O, R, I] (R >= 1).
template <class P, class In>
void reduce_middle(const In* x, int64_t O, int64_t R, int64_t I, typename P::Acc* out) {
  using Acc = typename P::Acc;
  if (I == 1) {
    const int64_t chunks = std::min<int64_t>(R / kParallelGrain, 64);
    if (O >= 4 || chunks < 2) {
      parallel_for(O, std::max<int64_t>(1, kParallelGrain / R), [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) out[o] = reduce_row<P>(x + o * R, R);
      });
      return;
    }
    // Few long rows: fixed chunks reduced in parallel, then combined in order.
    for (int64_t o = 0; o < O; ++o) {
      Acc partial[64];
      std::fill(partial, partial + 64, P::identity());
      const In* row = x + o * R;
      parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t b = R / chunks * c, e = c + 1 == chunks ? R : R / chunks * (c + 1);
          partial[c] = reduce_row<P>(row + b, e - b);
        }
      });
      Acc s = partial[0];
      for (int64_t c = 1; c < chunks; ++c) s = P::combine(s, partial[c]);
      out[o] = s;
    }
    return;
  }
  constexpr int64_t kCols = 1024;
  const int64_t blocks = (I + kCols - 1) / kCols;
  parallel_for(O * blocks, std::max<int64_t>(1, kParallelGrain / (R * std::min(I, kCols))),
               [&](int64_t u0, int64_t u1) {
                 for (int64_t u = u0; u < u1; ++u) {
                   const int64_t o = u / blocks, j0 = (u % blocks) * kCols;
                   reduce_columns<P>(x + o * R * I + j0, R, I, std::min(kCols, I - j0),
                                     out + o * I + j0);
                 }
               });
}

struct Group {
  int64_t size;
  bool reduced;
};

// Checks the operands and runs the reduction. Attrs is the op's attribute struct (keepdims,
// noop_with_empty_axes). P provides: Acc, identity(), combine(a, b), finish(acc, count) -> T,
// empty() -> T (the result over no elements).
template <class P, class T, class Attrs>
xhal_status_t reduce_kernel(const char* op, const xhal_kernel_context_t* ctx,
                            const xhal_tensor_t* data, const xhal_tensor_t* axes,
                            const Attrs* given, void (*init)(Attrs*), xhal_tensor_t* reduced) {
  return guarded(op, [&] {
    using Acc = typename P::Acc;
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(op, ctx));
    XHAL_CPU_TRY(check_tensor(op, "input data", data, dt));
    if (axes != nullptr) XHAL_CPU_TRY(check_tensor(op, "input axes", axes, XHAL_DTYPE_INT64));
    XHAL_CPU_TRY(check_tensor(op, "output reduced", reduced, dt));
    const Attrs at = read_attrs(given, init);
    if ((at.keepdims != 0 && at.keepdims != 1) ||
        (at.noop_with_empty_axes != 0 && at.noop_with_empty_axes != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: keepdims (%lld) and noop_with_empty_axes (%lld) must be 0 or 1", op,
                  static_cast<long long>(at.keepdims),
                  static_cast<long long>(at.noop_with_empty_axes));
    const Dims dx = dims_of(data), dy = dims_of(reduced);
    bool red[kMaxRank] = {};
    int64_t num_axes = 0;
    if (axes != nullptr) {
      if (axes->ndim > 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axes must be 1-D, got shape %s", op,
                    to_string(dims_of(axes)).c_str());
      num_axes = numel(axes);
      const int64_t* list = data_as<const int64_t>(axes);
      for (int64_t i = 0; i < num_axes; ++i) {
        const int a = normalize_axis(list[i], dx.rank);
        if (a < 0)
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for data %s",
                      op, static_cast<long long>(list[i]), to_string(dx).c_str());
        if (red[a])
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is listed twice", op,
                      static_cast<long long>(list[i]));
        red[a] = true;
      }
    }
    const bool identity = num_axes == 0 && at.noop_with_empty_axes == 1;
    if (num_axes == 0 && !identity)
      for (int i = 0; i < dx.rank; ++i) red[i] = true;
    Dims expect;
    int64_t count = 1;
    for (int i = 0; i < dx.rank; ++i) {
      if (!red[i])
        expect.push_back(dx[i]);
      else {
        count *= dx[i];
        if (at.keepdims) expect.push_back(1);
      }
    }
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output has shape %s; reducing data %s gives %s",
                  op, to_string(dy).c_str(), to_string(dx).c_str(), to_string(expect).c_str());
    const int64_t n_out = dy.numel();
    if (n_out == 0) return XHAL_OK;
    T* y = data_as<T>(reduced);
    const T* x = data_as<const T>(data);
    if (identity) {
      std::memmove(y, x, static_cast<size_t>(n_out) * sizeof(T));
      return XHAL_OK;
    }
    if (count == 0) {  // a reduction over nothing
      std::fill(y, y + n_out, P::empty());
      return XHAL_OK;
    }
    std::vector<Group> groups;
    for (int i = 0; i < dx.rank; ++i) {
      if (dx[i] == 1) continue;
      if (!groups.empty() && groups.back().reduced == red[i])
        groups.back().size *= dx[i];
      else
        groups.push_back({dx[i], red[i]});
    }
    if (std::none_of(groups.begin(), groups.end(), [](const Group& g) { return g.reduced; })) {
      // Only size-1 axes are reduced: every output is the reduction of one element.
      parallel_for(n_out, kParallelGrain, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i) y[i] = P::finish(P::combine(P::identity(), to_acc<Acc>(x[i])), 1);
      });
      return XHAL_OK;
    }
    // Accumulator buffers (not std::vector: Acc may be bool).
    std::unique_ptr<Acc[]> cur, next;
    bool first = true;
    for (;;) {
      int g = static_cast<int>(groups.size()) - 1;
      while (g >= 0 && !groups[g].reduced) --g;
      if (g < 0) break;
      int64_t O = 1, I = 1;
      for (int i = 0; i < g; ++i) O *= groups[i].size;
      for (size_t i = g + 1; i < groups.size(); ++i) I *= groups[i].size;
      next.reset(new Acc[static_cast<size_t>(O * I)]);
      if (first)
        reduce_middle<P>(x, O, groups[g].size, I, next.get());
      else
        reduce_middle<P>(cur.get(), O, groups[g].size, I, next.get());
      first = false;
      cur.swap(next);
      groups.erase(groups.begin() + g);
      if (g > 0 && static_cast<size_t>(g) < groups.size()) {  // neighbours are both kept
        groups[g - 1].size *= groups[g].size;
        groups.erase(groups.begin() + g);
      }
    }
    parallel_for(n_out, kParallelGrain, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) y[i] = P::finish(cur[i], count);
    });
    return XHAL_OK;
  });
}

}  // namespace reduce_detail
}  // namespace xhal_cpu
