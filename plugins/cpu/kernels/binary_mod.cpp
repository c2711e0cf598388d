// mod (ONNX Mod-28): fmod = 1 is the truncated remainder (C fmod, sign of A), fmod = 0 the
// floored one (sign of B, Python's %). Floats use C fmod, exact, then for fmod = 0 add B when
// the remainder is nonzero and of the other sign than B (numpy's np.mod); float16/bfloat16
// compute in float32. Integer B = 0 (undefined) gives 0, and MIN mod -1 gives 0 without trapping.
#include <cmath>
#include <type_traits>

#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

// The C remainder a % b, sign of a; 0 for b == 0 and for b == -1 (MIN % -1 traps on x86).
template <class T>
inline T int_rem(T a, T b) {
  if (b == 0) return 0;
  if constexpr (std::is_signed_v<T>) {
    if (b == -1) return 0;
  }
  return static_cast<T>(a % b);
}

struct ModTrunc {
  static constexpr bool heavy = true;  // a division (fmod) per element
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>)
      return int_rem(a, b);
    else
      return std::fmod(a, b);
  }
};

struct ModFloor {
  static constexpr bool heavy = true;
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      T r = int_rem(a, b);
      if constexpr (std::is_signed_v<T>) {
        if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      }
      return r;
    } else {
      T r = std::fmod(a, b);
      if (r != 0) {
        if ((b < 0) != (r < 0)) r += b;
      } else {
        r = std::copysign(T(0), b);
      }
      return r;
    }
  }
};

template <class T>
xhal_status_t mod_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                        const xhal_tensor_t* B, const xhal_mod_v1_attrs_t* attrs,
                        xhal_tensor_t* C) {
  return guarded("mod", [&] {
    const xhal_mod_v1_attrs_t a = read_attrs(attrs, xhal_mod_v1_attrs_init);
    if (a.fmod == 1) return ew::binary_apply<ModTrunc, T, T, T>("mod", ctx, A, B, C);
    if (a.fmod == 0) return ew::binary_apply<ModFloor, T, T, T>("mod", ctx, A, B, C);
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "mod: fmod must be 0 or 1, got %lld",
                static_cast<long long>(a.fmod));
  });
}

template <class... Ts>
xhal_status_t register_types(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK
             ? st
             : xhal_register_mod_v1(h, r, mod_entry<Ts>, DType<Ts>::id, 0, "xhal.cpu.mod")),
   ...);
  return st;
}

}  // namespace

xhal_status_t register_mod_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_types<float, double, Half, BFloat16, int8_t, uint8_t, int32_t, int64_t>(h, r);
}

}  // namespace xhal_cpu
