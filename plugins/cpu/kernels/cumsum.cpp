// cumsum (ONNX CumSum-14) along the axis held by the host-memory int64 scalar `axis`, with the
// exclusive and reverse attributes. Accumulates in float64 for float32 and float64, in float32
// for float16/bfloat16 (each output rounded once), and in the unsigned type of the width for
// integers (wrapping). Along the last axis each row is a running sum; otherwise [L, w] column
// blocks keep w running sums and every loop is contiguous.
#include <algorithm>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "reduce_common.h"
#include "reduce_policies.h"

namespace xhal_cpu {
namespace {

using reduce_detail::from_acc;
using reduce_detail::to_acc;

constexpr const char* kOp = "cumsum";

template <class T>
using acc_t = typename reduce_detail::WideAcc<T>::type;

// Row o of length L with elements `stride` apart: positions in the direction of the sum.
template <bool kExcl, bool kRev, class T>
void scan_row(const T* x, T* y, int64_t L) {
  using Acc = acc_t<T>;
  Acc s = Acc(0);
  for (int64_t k = 0; k < L; ++k) {
    const int64_t i = kRev ? L - 1 - k : k;
    const Acc v = to_acc<Acc>(x[i]);
    if constexpr (kExcl) {
      y[i] = from_acc<T>(s);
      s += v;
    } else {
      s += v;
      y[i] = from_acc<T>(s);
    }
  }
}

template <bool kExcl, bool kRev, class T>
XHAL_CPU_SIMD_CLONES void scan_columns(const T* x, T* y, int64_t L, int64_t stride, int64_t w,
                                       acc_t<T>* s) {
  using Acc = acc_t<T>;
  std::fill(s, s + w, Acc(0));
  for (int64_t k = 0; k < L; ++k) {
    const int64_t l = kRev ? L - 1 - k : k;
    const T* xr = x + l * stride;
    T* yr = y + l * stride;
    for (int64_t j = 0; j < w; ++j) {
      const Acc v = to_acc<Acc>(xr[j]);
      if constexpr (kExcl) {
        yr[j] = from_acc<T>(s[j]);
        s[j] += v;
      } else {
        s[j] += v;
        yr[j] = from_acc<T>(s[j]);
      }
    }
  }
}

template <bool kExcl, bool kRev, class T>
void run(const T* x, T* y, int64_t O, int64_t L, int64_t I) {
  if (I == 1) {
    parallel_for(O, std::max<int64_t>(1, kParallelGrain / L), [&](int64_t o0, int64_t o1) {
      for (int64_t o = o0; o < o1; ++o) scan_row<kExcl, kRev>(x + o * L, y + o * L, L);
    });
    return;
  }
  constexpr int64_t kCols = 512;
  const int64_t blocks = (I + kCols - 1) / kCols;
  parallel_for(O * blocks, std::max<int64_t>(1, kParallelGrain / (L * std::min(I, kCols))),
               [&](int64_t u0, int64_t u1) {
                 std::vector<acc_t<T>> s(static_cast<size_t>(std::min(I, kCols)));
                 for (int64_t u = u0; u < u1; ++u) {
                   const int64_t o = u / blocks, j0 = (u % blocks) * kCols;
                   const int64_t off = o * L * I + j0;
                   scan_columns<kExcl, kRev>(x + off, y + off, L, I, std::min(kCols, I - j0),
                                             s.data());
                 }
               });
}

template <class T>
xhal_status_t cumsum_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                            const xhal_tensor_t* axis_t, const xhal_cumsum_v1_attrs_t* given,
                            xhal_tensor_t* Y) {
  return guarded(kOp, [&] {
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input x", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "input axis", axis_t, XHAL_DTYPE_INT64));
    XHAL_CPU_TRY(check_tensor(kOp, "output y", Y, dt));
    const xhal_cumsum_v1_attrs_t at = read_attrs(given, xhal_cumsum_v1_attrs_init);
    if ((at.exclusive != 0 && at.exclusive != 1) || (at.reverse != 0 && at.reverse != 1))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: exclusive (%lld) and reverse (%lld) must be 0 or 1",
                  static_cast<long long>(at.exclusive), static_cast<long long>(at.reverse));
    const Dims dx = dims_of(X), dy = dims_of(Y);
    if (dx != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: output y has shape %s; x has shape %s",
                  to_string(dy).c_str(), to_string(dx).c_str());
    if (axis_t->ndim > 1 || numel(axis_t) != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: axis must hold one value, got shape %s",
                  to_string(dims_of(axis_t)).c_str());
    const int64_t axis_value = *data_as<const int64_t>(axis_t);
    const int axis = normalize_axis(axis_value, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "cumsum: axis %lld is out of range for x %s",
                  static_cast<long long>(axis_value), to_string(dx).c_str());
    if (dx.numel() == 0) return XHAL_OK;
    int64_t O = 1, I = 1;
    for (int i = 0; i < axis; ++i) O *= dx[i];
    for (int i = axis + 1; i < dx.rank; ++i) I *= dx[i];
    const T* x = data_as<const T>(X);
    T* y = data_as<T>(Y);
    const int64_t L = dx[axis];
    if (at.exclusive)
      at.reverse ? run<true, true>(x, y, O, L, I) : run<true, false>(x, y, O, L, I);
    else
      at.reverse ? run<false, true>(x, y, O, L, I) : run<false, false>(x, y, O, L, I);
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_cumsum_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr const char* name = "xhal.cpu.cumsum";
  XHAL_CPU_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<float>, XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<double>, XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<BFloat16>, XHAL_DTYPE_BFLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<int32_t>, XHAL_DTYPE_INT32, 0, name));
  XHAL_CPU_TRY(xhal_register_cumsum_v1(h, r, cumsum_kernel<int64_t>, XHAL_DTYPE_INT64, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
