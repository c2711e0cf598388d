// arg_max and arg_min (ONNX ArgMax-13 / ArgMin-13) along one axis, int64 output. Ties give the
// first index, or the last with select_last_index; a NaN beats every number, so a row holding
// NaN gives its first (last) NaN, as numpy and the ONNX reference do. float16 and bfloat16
// compare in float32.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "reduce_common.h"

namespace xhal_cpu {
namespace {

using reduce_detail::to_acc;

template <class T>
using cmp_t = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;

// Does `v` (at a later index) replace `best`?
template <bool kMax, bool kLast, class C>
inline bool replaces(C v, C best) {
  if constexpr (std::is_floating_point_v<C>) {
    if constexpr (kLast)
      return v != v || (best == best && (kMax ? v >= best : v <= best));
    else
      return (v != v && best == best) || (kMax ? v > best : v < best);
  } else {
    if constexpr (kLast)
      return kMax ? v >= best : v <= best;
    else
      return kMax ? v > best : v < best;
  }
}

// One contiguous row of length n >= 1, in two vectorisable passes: the extreme value (16
// lanes; for floats a v - v flag notices NaN or Inf), then the first (last) index holding it,
// or holding a NaN when there is one.
template <bool kMax, bool kLast, class T>
XHAL_CPU_SIMD_CLONES int64_t arg_row(const T* x, int64_t n) {
  using C = cmp_t<T>;
  C lanes[16], flag[16];
  const C first = to_acc<C>(x[0]);
  for (int k = 0; k < 16; ++k) {
    lanes[k] = first;
    flag[k] = C(0);
  }
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
#pragma GCC unroll 1  // keep the lane loop for the loop vectoriser (it if-converts the select)
    for (int k = 0; k < 16; ++k) {
      const C v = to_acc<C>(x[i + k]);
      lanes[k] = (kMax ? v > lanes[k] : v < lanes[k]) ? v : lanes[k];
      if constexpr (std::is_floating_point_v<C>) flag[k] += v - v;
    }
  C m = first, f = C(0);
  for (int k = 0; k < 16; ++k) {
    m = (kMax ? lanes[k] > m : lanes[k] < m) ? lanes[k] : m;
    f += flag[k];
  }
  for (; i < n; ++i) {
    const C v = to_acc<C>(x[i]);
    m = (kMax ? v > m : v < m) ? v : m;
    if constexpr (std::is_floating_point_v<C>) f += v - v;
  }
  bool nan = false;
  if constexpr (std::is_floating_point_v<C>) {
    if (f != f)  // a NaN or an infinity passed: is there a NaN?
      for (int64_t j = 0; j < n && !nan; ++j) nan = to_acc<C>(x[j]) != to_acc<C>(x[j]);
  }
  const auto hit = [&](int64_t j) {
    const C v = to_acc<C>(x[j]);
    return nan ? v != v : v == m;
  };
  if constexpr (kLast) {
    for (int64_t j = n - 1; j > 0; --j)
      if (hit(j)) return j;
    return 0;
  } else {
    for (int64_t j = 0; j + 1 < n; ++j)
      if (hit(j)) return j;
    return n - 1;
  }
}

// Columns j < w of an [L, stride] block.
template <bool kMax, bool kLast, class T>
XHAL_CPU_SIMD_CLONES void arg_columns(const T* x, int64_t L, int64_t stride, int64_t w,
                                      cmp_t<T>* best, int64_t* idx) {
  using C = cmp_t<T>;
  for (int64_t j = 0; j < w; ++j) {
    best[j] = to_acc<C>(x[j]);
    idx[j] = 0;
  }
  for (int64_t l = 1; l < L; ++l) {
    const T* row = x + l * stride;
    for (int64_t j = 0; j < w; ++j) {
      const C v = to_acc<C>(row[j]);
      const bool take = replaces<kMax, kLast>(v, best[j]);
      best[j] = take ? v : best[j];
      idx[j] = take ? l : idx[j];
    }
  }
}

template <bool kMax, bool kLast, class T>
void run(const T* x, int64_t O, int64_t L, int64_t I, int64_t* y) {
  if (I == 1) {
    parallel_for(O, std::max<int64_t>(1, kParallelGrain / L), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) y[o] = arg_row<kMax, kLast>(x + o * L, L);
    });
    return;
  }
  constexpr int64_t kCols = 512;
  const int64_t blocks = (I + kCols - 1) / kCols;
  parallel_for(O * blocks, std::max<int64_t>(1, kParallelGrain / (L * std::min(I, kCols))),
               [&](int64_t u0, int64_t u1) {
                 std::vector<cmp_t<T>> best(static_cast<size_t>(std::min(I, kCols)));
                 for (int64_t u = u0; u < u1; ++u) {
                   const int64_t o = u / blocks, j0 = (u % blocks) * kCols;
                   arg_columns<kMax, kLast>(x + o * L * I + j0, L, I, std::min(kCols, I - j0),
                                            best.data(), y + o * I + j0);
                 }
               });
}

template <bool kMax, class T, class Attrs>
xhal_status_t arg_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                         const Attrs* given, void (*init)(Attrs*), xhal_tensor_t* reduced) {
  const char* op = kMax ? "arg_max" : "arg_min";
  return guarded(op, [&] {
    XHAL_CPU_TRY(check_context(op, ctx));
    XHAL_CPU_TRY(check_tensor(op, "input data", data, DType<T>::id));
    XHAL_CPU_TRY(check_tensor(op, "output reduced", reduced, XHAL_DTYPE_INT64));
    const Attrs at = read_attrs(given, init);
    if ((at.keepdims != 0 && at.keepdims != 1) ||
        (at.select_last_index != 0 && at.select_last_index != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: keepdims (%lld) and select_last_index (%lld) must be 0 or 1", op,
                  static_cast<long long>(at.keepdims), static_cast<long long>(at.select_last_index));
    const Dims dx = dims_of(data), dy = dims_of(reduced);
    const int axis = normalize_axis(at.axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: axis %lld is out of range for data %s", op,
                  static_cast<long long>(at.axis), to_string(dx).c_str());
    Dims expect;
    for (int i = 0; i < dx.rank; ++i)
      if (i != axis)
        expect.push_back(dx[i]);
      else if (at.keepdims)
        expect.push_back(1);
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output has shape %s; data %s gives %s", op,
                  to_string(dy).c_str(), to_string(dx).c_str(), to_string(expect).c_str());
    const int64_t n_out = dy.numel();
    if (n_out == 0) return XHAL_OK;
    if (dx[axis] == 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: data %s has no elements along axis %d", op,
                  to_string(dx).c_str(), axis);
    int64_t O = 1, I = 1;
    for (int i = 0; i < axis; ++i) O *= dx[i];
    for (int i = axis + 1; i < dx.rank; ++i) I *= dx[i];
    const T* x = data_as<const T>(data);
    int64_t* y = data_as<int64_t>(reduced);
    if (at.select_last_index)
      run<kMax, true>(x, O, dx[axis], I, y);
    else
      run<kMax, false>(x, O, dx[axis], I, y);
    return XHAL_OK;
  });
}

template <class T>
xhal_status_t arg_max_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                             const xhal_arg_max_v1_attrs_t* given, xhal_tensor_t* reduced) {
  return arg_kernel<true, T>(ctx, data, given, xhal_arg_max_v1_attrs_init, reduced);
}

template <class T>
xhal_status_t arg_min_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                             const xhal_arg_min_v1_attrs_t* given, xhal_tensor_t* reduced) {
  return arg_kernel<false, T>(ctx, data, given, xhal_arg_min_v1_attrs_init, reduced);
}

template <class T>
xhal_status_t register_both(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_arg_max_v1(h, r, arg_max_kernel<T>, dt, 0, "xhal.cpu.arg_max"));
  XHAL_CPU_TRY(xhal_register_arg_min_v1(h, r, arg_min_kernel<T>, dt, 0, "xhal.cpu.arg_min"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_argminmax_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_both<float>(h, r));
  XHAL_CPU_TRY(register_both<double>(h, r));
  XHAL_CPU_TRY(register_both<Half>(h, r));
  XHAL_CPU_TRY(register_both<BFloat16>(h, r));
  XHAL_CPU_TRY(register_both<int8_t>(h, r));
  XHAL_CPU_TRY(register_both<uint8_t>(h, r));
  XHAL_CPU_TRY(register_both<int32_t>(h, r));
  XHAL_CPU_TRY(register_both<int64_t>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
