// pow: Z = X ** Y with broadcasting; X (T) and Y (T1) have independent dtypes, Z has X's.
// Floating X: C pow in float64, rounded to X's dtype (through float32 for float16/bfloat16).
// Integer X: trunc(pow(x, y)) in float64, as ONNX Runtime; results outside X's range (undefined
// by the spec) give 0 instead of an undefined conversion.
#include <cmath>
#include <limits>
#include <type_traits>

#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

struct PowOp {
  static constexpr bool heavy = true;  // a pow() call per element
  template <class A, class B>
  A operator()(A x, B y) const {
    const double r = std::pow(static_cast<double>(x), static_cast<double>(y));
    if constexpr (std::is_floating_point_v<A>) {
      return static_cast<A>(r);
    } else {
      const double t = std::trunc(r);
      // [min, max] of A as doubles: -2^(bits-1) is exact, and max + 1 = 2^(bits-1) too.
      const double lo = static_cast<double>(std::numeric_limits<A>::min());
      if (!(t >= lo && t < -lo)) return A(0);
      return static_cast<A>(t);
    }
  }
};

template <class T, class T1>
xhal_status_t pow_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                        const xhal_tensor_t* Y, const xhal_pow_v1_attrs_t* /*attrs: none*/,
                        xhal_tensor_t* Z) {
  return guarded("pow", [&] { return ew::binary_apply<PowOp, T, T1, T>("pow", ctx, X, Y, Z); });
}

template <class T, class... T1s>
xhal_status_t register_base(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st
                       : xhal_register_pow_v1(h, r, pow_entry<T, T1s>, DType<T>::id,
                                              DType<T1s>::id, 0, "xhal.cpu.pow")),
   ...);
  return st;
}

template <class T>
xhal_status_t register_exponents(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_base<T, float, double, Half, BFloat16, int8_t, uint8_t, int32_t, int64_t>(h, r);
}

}  // namespace

xhal_status_t register_pow_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_exponents<float>(h, r));
  XHAL_CPU_TRY(register_exponents<double>(h, r));
  XHAL_CPU_TRY(register_exponents<Half>(h, r));
  XHAL_CPU_TRY(register_exponents<BFloat16>(h, r));
  XHAL_CPU_TRY(register_exponents<int32_t>(h, r));
  XHAL_CPU_TRY(register_exponents<int64_t>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
