// range for float32/float64/int32/int64: start, limit and delta are host scalars. The count is
// max(ceil((limit - start) / delta), 0), exact for integers (in 128-bit arithmetic) and in
// float64 for floats; element i is start + i * delta (floats: in float64, rounded once).
#include <cmath>
#include <type_traits>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "range";

template <class T>
xhal_status_t scalar(const char* name, const xhal_tensor_t* t, T* v) {
  XHAL_CPU_TRY(check_tensor(kOp, name, t, DType<T>::id));
  if (numel(t) != 1 || t->ndim > 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: %s must be a scalar, got shape %s", name,
                to_string(dims_of(t)).c_str());
  *v = *data_as<const T>(t);
  return XHAL_OK;
}

template <class T>
xhal_status_t range_impl(const xhal_kernel_context_t* ctx, const xhal_tensor_t* start,
                         const xhal_tensor_t* limit, const xhal_tensor_t* delta,
                         xhal_tensor_t* out) {
  XHAL_CPU_TRY(check_context(kOp, ctx));
  T s{}, l{}, d{};
  XHAL_CPU_TRY(scalar("input start", start, &s));
  XHAL_CPU_TRY(scalar("input limit", limit, &l));
  XHAL_CPU_TRY(scalar("input delta", delta, &d));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, DType<T>::id));
  if (d == 0) return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: delta must not be 0");
  int64_t n = 0;
  if constexpr (std::is_integral_v<T>) {
    const __int128 span = static_cast<__int128>(l) - s, step = d;
    // ceil(span / step) with truncating division
    __int128 q = span / step;
    if ((span % step != 0) && ((span > 0) == (step > 0))) q += 1;
    n = q > 0 ? static_cast<int64_t>(q) : 0;
  } else {
    const double c = std::ceil((static_cast<double>(l) - static_cast<double>(s)) /
                               static_cast<double>(d));
    if (!(c < 9.2e18))  // NaN or too long
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: the sequence has no finite length");
    n = c > 0 ? static_cast<int64_t>(c) : 0;
  }
  const Dims dy = dims_of(out);
  if (dy.rank != 1 || dy[0] != n)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: output has shape %s; expected [%lld]",
                to_string(dy).c_str(), static_cast<long long>(n));
  T* y = data_as<T>(out);
  parallel_for(n, kParallelGrain, [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) {
      if constexpr (std::is_integral_v<T>)
        y[i] = static_cast<T>(static_cast<int64_t>(s) + i * static_cast<int64_t>(d));
      else
        y[i] = static_cast<T>(static_cast<double>(s) +
                              static_cast<double>(i) * static_cast<double>(d));
    }
  });
  return XHAL_OK;
}

template <class T>
xhal_status_t range_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* start,
                           const xhal_tensor_t* limit, const xhal_tensor_t* delta,
                           const xhal_range_v1_attrs_t* /*attrs*/, xhal_tensor_t* out) {
  return guarded(kOp, [&] { return range_impl<T>(ctx, start, limit, delta, out); });
}

}  // namespace

xhal_status_t register_range_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(xhal_register_range_v1(h, r, range_kernel<float>, XHAL_DTYPE_FLOAT32, 0,
                                      "xhal.cpu.range"));
  XHAL_CPU_TRY(xhal_register_range_v1(h, r, range_kernel<double>, XHAL_DTYPE_FLOAT64, 0,
                                      "xhal.cpu.range"));
  XHAL_CPU_TRY(xhal_register_range_v1(h, r, range_kernel<int32_t>, XHAL_DTYPE_INT32, 0,
                                      "xhal.cpu.range"));
  XHAL_CPU_TRY(xhal_register_range_v1(h, r, range_kernel<int64_t>, XHAL_DTYPE_INT64, 0,
                                      "xhal.cpu.range"));
  return XHAL_OK;
}

}  // namespace xhal_cpu
