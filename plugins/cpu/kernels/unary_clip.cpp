// clip: Y = min(max(X, min), max) with optional scalar bounds read on the host
// (float32/float64/float16/bfloat16/int8/uint8/int32/int64).
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels.h"
#include "unary_common.h"

namespace xhal_cpu {
namespace {

template <class C>
struct ClipOp {
  C lo, hi;
  // NaN fails both comparisons and passes through; min > max gives max everywhere.
  C operator()(C x) const {
    const C y = x < lo ? lo : x;
    return y > hi ? hi : y;
  }
};

// The compute-type value of a scalar bound, or `fallback` when the bound is absent.
template <class T, class C = compute_t<T>>
xhal_status_t read_bound(const xhal_tensor_t* t, const char* role, C fallback, C* out) {
  *out = fallback;
  if (t == nullptr) return XHAL_OK;
  XHAL_CPU_TRY(check_tensor("clip", role, t, DType<T>::id));
  const Dims d = dims_of(t);
  if (d.numel() != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "clip: input %s has shape %s; it must be a scalar",
                role, to_string(d).c_str());
  const T v = *data_as<const T>(t);
  if constexpr (std::is_same_v<T, Half>)
    *out = half_to_float(v.bits);
  else if constexpr (std::is_same_v<T, BFloat16>)
    *out = bfloat16_to_float(v.bits);
  else
    *out = v;
  return XHAL_OK;
}

template <class T>
xhal_status_t clip_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                         const xhal_tensor_t* min, const xhal_tensor_t* max,
                         const xhal_clip_v1_attrs_t* /*attrs: none*/, xhal_tensor_t* Y) {
  return guarded("clip", [&] {
    using C = compute_t<T>;
    using L = std::numeric_limits<C>;
    const C lowest = L::has_infinity ? -L::infinity() : L::lowest();
    const C highest = L::has_infinity ? L::infinity() : L::max();
    ClipOp<C> op{lowest, highest};
    XHAL_CPU_TRY(read_bound<T>(min, "min", lowest, &op.lo));
    XHAL_CPU_TRY(read_bound<T>(max, "max", highest, &op.hi));
    return unary_map<T>("clip", ctx, X, Y, op, kCheapGrain);
  });
}

template <class T>
xhal_status_t register_clip(const xhal_host_api_t* h, xhal_registry_t r) {
  return xhal_register_clip_v1(h, r, clip_entry<T>, DType<T>::id, 0, "xhal.cpu.clip");
}

}  // namespace

xhal_status_t register_clip_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_clip<float>(h, r));
  XHAL_CPU_TRY(register_clip<double>(h, r));
  XHAL_CPU_TRY(register_clip<Half>(h, r));
  XHAL_CPU_TRY(register_clip<BFloat16>(h, r));
  XHAL_CPU_TRY(register_clip<int8_t>(h, r));
  XHAL_CPU_TRY(register_clip<uint8_t>(h, r));
  XHAL_CPU_TRY(register_clip<int32_t>(h, r));
  XHAL_CPU_TRY(register_clip<int64_t>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
