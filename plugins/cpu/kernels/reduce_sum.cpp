// reduce_sum over the axes listed in the optional host-memory int64 `axes` input (negative
// axes count from the back; absent or empty means all axes, or the identity when
// noop_with_empty_axes is 1), keeping reduced axes as size 1 when keepdims is 1.
// Accumulation: float32 -> float64, float16 -> float32, float64 -> float64, int32/int64 in
// the unsigned type of their width (wrapping). Rows are summed with eight interleaved partial
// sums, which both vectorises and bounds the rounding error like a shallow pairwise sum.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "reduce_sum";

template <class T>
struct AccumType {
  using type = std::make_unsigned_t<T>;  // int32, int64
};
template <>
struct AccumType<float> {
  using type = double;
};
template <>
struct AccumType<double> {
  using type = double;
};
template <>
struct AccumType<Half> {
  using type = float;
};

template <class Acc, class In>
Acc to_acc(In v) {
  if constexpr (std::is_same_v<In, Half>)
    return half_to_float(v.bits);
  else
    return static_cast<Acc>(v);
}

template <class T, class Acc>
T from_acc(Acc v) {
  if constexpr (std::is_same_v<T, Half>)
    return Half{float_to_half(v)};
  else
    return static_cast<T>(v);  // unsigned -> signed keeps the two's complement bits
}

template <class Acc, class In>
XHAL_CPU_SIMD_CLONES Acc sum_row(const In* x, int64_t n) {
  Acc acc[8] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += to_acc<Acc>(x[i + k]);
  Acc s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; ++i) s += to_acc<Acc>(x[i]);
  return s;
}

// out[j] = sum over r < R of x[r * stride + j], for j < w.
template <class Acc, class In>
XHAL_CPU_SIMD_CLONES void sum_columns(const In* x, int64_t R, int64_t stride, int64_t w, Acc* out) {
  std::fill(out, out + w, Acc(0));
  for (int64_t r = 0; r < R; ++r) {
    const In* row = x + r * stride;
    for (int64_t j = 0; j < w; ++j) out[j] += to_acc<Acc>(row[j]);
  }
}

// out[o, i] = sum over r of x[o, r, i] for x of shape [O, R, I].
template <class Acc, class In>
void reduce_middle(const In* x, int64_t O, int64_t R, int64_t I, Acc* out) {
  if (I == 1) {
    const int64_t chunks = std::min<int64_t>(R / kParallelGrain, 64);
    if (O >= 4 || chunks < 2) {
      parallel_for(O, std::max<int64_t>(1, kParallelGrain / R), [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) out[o] = sum_row<Acc>(x + o * R, R);
      });
      return;
    }
    // Few long rows: split each row into fixed chunks (so the result does not depend on
    // scheduling), sum the chunks in parallel, then add the partial sums in order.
    for (int64_t o = 0; o < O; ++o) {
      Acc partial[64] = {};
      const In* row = x + o * R;
      parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t b = R / chunks * c, e = c + 1 == chunks ? R : R / chunks * (c + 1);
          partial[c] = sum_row<Acc>(row + b, e - b);
        }
      });
      Acc s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += partial[c];
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
                   sum_columns<Acc>(x + o * R * I + j0, R, I, std::min(kCols, I - j0),
                                    out + o * I + j0);
                 }
               });
}

struct Group {
  int64_t size;
  bool reduced;
};

template <class T>
xhal_status_t reduce_sum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                                const xhal_tensor_t* axes, const xhal_reduce_sum_v1_attrs_t* given,
                                xhal_tensor_t* reduced) {
  return guarded(kOp, [&] {
    using Acc = typename AccumType<T>::type;
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input data", data, dt));
    if (axes != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input axes", axes, XHAL_DTYPE_INT64));
    XHAL_CPU_TRY(check_tensor(kOp, "output reduced", reduced, dt));
    const xhal_reduce_sum_v1_attrs_t at = read_attrs(given, xhal_reduce_sum_v1_attrs_init);
    if ((at.keepdims != 0 && at.keepdims != 1) ||
        (at.noop_with_empty_axes != 0 && at.noop_with_empty_axes != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reduce_sum: keepdims (%lld) and noop_with_empty_axes (%lld) must be 0 or 1",
                  static_cast<long long>(at.keepdims),
                  static_cast<long long>(at.noop_with_empty_axes));
    const Dims dx = dims_of(data), dy = dims_of(reduced);
    bool red[kMaxRank] = {};
    int64_t num_axes = 0;
    if (axes != nullptr) {
      if (axes->ndim > 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "reduce_sum: axes must be 1-D, got shape %s",
                    to_string(dims_of(axes)).c_str());
      num_axes = numel(axes);
      const int64_t* list = data_as<const int64_t>(axes);
      for (int64_t i = 0; i < num_axes; ++i) {
        const int a = normalize_axis(list[i], dx.rank);
        if (a < 0)
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "reduce_sum: axis %lld is out of range for data %s",
                      static_cast<long long>(list[i]), to_string(dx).c_str());
        if (red[a])
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "reduce_sum: axis %lld is listed twice",
                      static_cast<long long>(list[i]));
        red[a] = true;
      }
    }
    const bool identity = num_axes == 0 && at.noop_with_empty_axes == 1;
    if (num_axes == 0 && !identity)
      for (int i = 0; i < dx.rank; ++i) red[i] = true;
    Dims expect;
    for (int i = 0; i < dx.rank; ++i) {
      if (!red[i])
        expect.push_back(dx[i]);
      else if (at.keepdims)
        expect.push_back(1);
    }
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reduce_sum: output has shape %s; reducing data %s gives %s",
                  to_string(dy).c_str(), to_string(dx).c_str(), to_string(expect).c_str());
    const int64_t n_out = dy.numel();
    if (n_out == 0) return XHAL_OK;
    T* y = data_as<T>(reduced);
    if (dx.numel() == 0) {  // a sum over nothing is 0
      std::fill(y, y + n_out, from_acc<T>(Acc(0)));
      return XHAL_OK;
    }

    // Drop size-1 dims and merge neighbours of the same kind: [kept, reduced, kept, ...].
    std::vector<Group> groups;
    for (int i = 0; i < dx.rank; ++i) {
      if (dx[i] == 1) continue;
      if (!groups.empty() && groups.back().reduced == red[i])
        groups.back().size *= dx[i];
      else
        groups.push_back({dx[i], red[i]});
    }
    const T* x = data_as<const T>(data);
    if (std::none_of(groups.begin(), groups.end(), [](const Group& g) { return g.reduced; })) {
      std::memmove(y, x, static_cast<size_t>(n_out) * sizeof(T));  // nothing to add up
      return XHAL_OK;
    }
    // Reduce one group of reduced dims at a time, innermost first, through Acc buffers.
    std::vector<Acc> cur, next;
    bool first = true;
    for (;;) {
      int g = static_cast<int>(groups.size()) - 1;
      while (g >= 0 && !groups[g].reduced) --g;
      if (g < 0) break;
      int64_t O = 1, I = 1;
      for (int i = 0; i < g; ++i) O *= groups[i].size;
      for (size_t i = g + 1; i < groups.size(); ++i) I *= groups[i].size;
      next.resize(static_cast<size_t>(O * I));
      if (first)
        reduce_middle<Acc>(x, O, groups[g].size, I, next.data());
      else
        reduce_middle<Acc>(cur.data(), O, groups[g].size, I, next.data());
      first = false;
      cur.swap(next);
      groups.erase(groups.begin() + g);
      if (g > 0 && static_cast<size_t>(g) < groups.size()) {  // neighbours are both kept
        groups[g - 1].size *= groups[g].size;
        groups.erase(groups.begin() + g);
      }
    }
    for (int64_t i = 0; i < n_out; ++i) y[i] = from_acc<T>(cur[static_cast<size_t>(i)]);
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_reduce_sum_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<float>, XHAL_DTYPE_FLOAT32, 0,
                                           "xhal.cpu.reduce_sum"));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<double>, XHAL_DTYPE_FLOAT64, 0,
                                           "xhal.cpu.reduce_sum"));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<Half>, XHAL_DTYPE_FLOAT16, 0,
                                           "xhal.cpu.reduce_sum"));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<int32_t>, XHAL_DTYPE_INT32, 0,
                                           "xhal.cpu.reduce_sum"));
  XHAL_CPU_TRY(xhal_register_reduce_sum_v1(h, r, reduce_sum_kernel<int64_t>, XHAL_DTYPE_INT64, 0,
                                           "xhal.cpu.reduce_sum"));
  return XHAL_OK;
}

}  // namespace xhal_cpu
