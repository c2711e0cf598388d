// pow: Z = X ** Y with broadcasting and strided inputs; X (T: float32/float64/float16/
// bfloat16/int32/int64) and Y (T1: those and int8/uint8) have independent dtypes, Z has X's.
//
// How: one kernel per base dtype (6, not 48): the exponent is read through a switch on its
// dtype (uniform across the grid, so it costs no divergence) and widened to float64, as the
// CPU plugin does (plugins/cpu/kernels/binary_pow.cpp) before calling pow.
// Floating X: pow in float64, rounded to X's compute type and then to X's dtype (float16 and
// bfloat16 through float32, like the CPU plugin).
// Integer X: trunc(pow(x, y)). An integral exponent takes the exact integer power (by
// squaring), since the GPU's float64 pow is only accurate to 2 ulp and 80.99999... would
// truncate wrongly; y < 0 gives 1 / x^|y| truncated (0 unless |x| = 1); a fractional exponent
// uses float64 pow and truncates (a result within 4 ulp of an integer counts as that
// integer). Results that do not fit X's dtype (or are not finite) give 0 like the CPU plugin;
// results beyond 2^53 are undefined by the spec.
// Not done: a float32 fast path through powf (the spec asks for float64 pow).
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

// Element `i` of a tensor of dtype `dt` as float64.
__device__ __forceinline__ double load_double(const void* p, int32_t dt, int64_t i) {
  switch (dt) {
    case XHAL_DTYPE_FLOAT32: return static_cast<const float*>(p)[i];
    case XHAL_DTYPE_FLOAT64: return static_cast<const double*>(p)[i];
    case XHAL_DTYPE_FLOAT16: return __half2float(static_cast<const __half*>(p)[i]);
    case XHAL_DTYPE_BFLOAT16: return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    case XHAL_DTYPE_INT8: return static_cast<const int8_t*>(p)[i];
    case XHAL_DTYPE_UINT8: return static_cast<const uint8_t*>(p)[i];
    case XHAL_DTYPE_INT32: return static_cast<const int32_t*>(p)[i];
    default: return static_cast<double>(static_cast<const int64_t*>(p)[i]);  // int64
  }
}

// trunc(pow(x, e)) for an integer base, in A's range or 0.
template <class A>
__device__ A int_pow(A x, double e) {
  const double lo = -static_cast<double>(uint64_t(1) << (sizeof(A) * 8 - 1));  // A's min, exact
  const double d = pow(static_cast<double>(x), e);
  if (isfinite(e) && e == trunc(e)) {
    const bool odd = fmod(e, 2.0) != 0.0;
    if (x == A(1)) return A(1);
    if (x == A(-1)) return odd ? A(-1) : A(1);
    if (e < 0.0) return A(0);   // |x| >= 2: |1 / x^|e|| < 1; x = 0: infinite, undefined
    if (e == 0.0) return A(1);  // x^0, 0^0 included
    if (x == A(0)) return A(0);
    // |x| >= 2, e >= 1: the range test on float64 pow (far from the limits it cannot err),
    // the value itself exact by squaring (e < 64 here, else it is out of range).
    if (!(d >= lo && d < -lo)) return A(0);
    uint64_t result = 1, base = static_cast<uint64_t>(static_cast<int64_t>(x));
    for (uint64_t k = static_cast<uint64_t>(e); k != 0; k >>= 1) {
      if (k & 1u) result *= base;
      base *= base;
    }
    return static_cast<A>(static_cast<int64_t>(result));
  }
  // A fractional exponent can still give an exact integer (16^0.5, 81^0.75): the GPU's pow
  // may land an ulp or two below it, which trunc would turn into the integer below, where the
  // CPU plugin's (glibc) pow is exact. Results within 4 ulp of an integer count as it.
  const double r = rint(d);
  const double t = fabs(d - r) <= 4.0 * 2.220446049250313e-16 * fabs(r) ? r : trunc(d);
  if (!(t >= lo && t < -lo)) return A(0);  // NaN, infinities, out of range
  return static_cast<A>(static_cast<int64_t>(t));
}

template <class T>
struct PowBody {
  T* z;
  const T* x;
  const void* y;
  int32_t y_dtype;

  __device__ __forceinline__ void operator()(const int64_t (&off)[3]) const {
    const double e = load_double(y, y_dtype, off[2]);
    const acc_t<T> b = ew::load(x + off[1]);
    if constexpr (std::is_floating_point<acc_t<T>>::value) {
      z[off[0]] = convert<T>(static_cast<acc_t<T>>(pow(static_cast<double>(b), e)));
    } else {
      z[off[0]] = int_pow<T>(b, e);
    }
  }
};

// One entry per (T, T1) pair, so that the exponent's dtype is checked against the registration.
template <class T, class T1>
xhal_status_t pow_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                        const xhal_tensor_t* Y, const xhal_pow_v1_attrs_t* /*attrs: none*/,
                        xhal_tensor_t* Z) noexcept {
  return guarded("pow", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("pow", ctx, &call));
    constexpr int32_t dt = dtype_of<T>(), dt1 = dtype_of<T1>();
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input Y", Y, dt1));
    XHAL_CUDA_TRY(check_tensor(call, "output Z", Z, dt));
    const Shape sx = shape_of(X), sy = shape_of(Y);
    Shape s;
    if (!ew::broadcast2(sx, sy, &s))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "pow: input X %s and input Y %s do not broadcast",
                  to_string(sx).c_str(), to_string(sy).c_str());
    XHAL_CUDA_TRY(check_shape(call, "output Z", Z, s));
    if (s.numel() == 0) return XHAL_OK;
    int64_t st[3][kMaxRank];
    strides_of(Z, st[0]);
    ew::broadcast_strides(X, s, st[1]);
    ew::broadcast_strides(Y, s, st[2]);
    const int64_t* const strides[3] = {st[0], st[1], st[2]};
    const PowBody<T> body{data_as<T>(Z), data_as<const T>(X), data_as<const char>(Y), dt1};
    return ew::launch<3>(call, "pow", body, s, strides);
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <class T, class... T1s>
xhal_status_t register_base(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st
                       : xhal_register_pow_v1(h, r, pow_entry<T, T1s>, dtype_of<T>(),
                                              dtype_of<T1s>(), kFlags, "cuda.pow")),
   ...);
  return st;
}

template <class T>
xhal_status_t register_exponents(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_base<T, float, double, __half, __nv_bfloat16, int8_t, uint8_t, int32_t,
                       int64_t>(h, r);
}

xhal_status_t register_pow_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_exponents<float>(h, r));
  XHAL_CUDA_TRY(register_exponents<double>(h, r));
  XHAL_CUDA_TRY(register_exponents<__half>(h, r));
  XHAL_CUDA_TRY(register_exponents<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_exponents<int32_t>(h, r));
  return register_exponents<int64_t>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(binary_pow, register_pow_family);

}  // namespace xhal_cuda
