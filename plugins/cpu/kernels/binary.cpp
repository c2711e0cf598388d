// add, sub, mul, div: elementwise with multidirectional (NumPy) broadcasting.
// float32/float64 compute natively, float16/bfloat16 in float32 (rounded once), integers wrap
// around (computed in the unsigned type); integer division truncates toward zero, and x/0 gives
// 0 and MIN/-1 gives MIN instead of trapping.
#include <type_traits>

#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

struct AddOp {
  static constexpr const char* name = "add";
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>)
      return wrap_add(a, b);
    else
      return a + b;
  }
};

struct SubOp {
  static constexpr const char* name = "sub";
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>)
      return wrap_sub(a, b);
    else
      return a - b;
  }
};

struct MulOp {
  static constexpr const char* name = "mul";
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>)
      return wrap_mul(a, b);
    else
      return a * b;
  }
};

struct DivOp {
  static constexpr const char* name = "div";
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      // The two cases that trap on x86 (SIGFPE): division by zero (undefined by the spec; we
      // give 0) and MIN / -1 (wraps to MIN, which is -a in two's complement).
      if (b == 0) return 0;
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return wrap_sub(T(0), a);
      }
      return static_cast<T>(a / b);
    } else {
      return a / b;
    }
  }
};

// The typed entry points the generated signatures expect.
template <class Op, class T, class Attrs>
xhal_status_t binary_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                           const xhal_tensor_t* B, const Attrs* /*attrs: none*/, xhal_tensor_t* C) {
  return guarded(Op::name, [&] { return ew::binary_apply<Op, T, T, T>(Op::name, ctx, A, B, C); });
}

template <class T>
xhal_status_t register_dtype(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_add_v1(h, r, binary_entry<AddOp, T, xhal_add_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.add"));
  XHAL_CPU_TRY(xhal_register_sub_v1(h, r, binary_entry<SubOp, T, xhal_sub_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.sub"));
  XHAL_CPU_TRY(xhal_register_mul_v1(h, r, binary_entry<MulOp, T, xhal_mul_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.mul"));
  XHAL_CPU_TRY(xhal_register_div_v1(h, r, binary_entry<DivOp, T, xhal_div_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.div"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_binary_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_dtype<float>(h, r));
  XHAL_CPU_TRY(register_dtype<double>(h, r));
  XHAL_CPU_TRY(register_dtype<Half>(h, r));
  XHAL_CPU_TRY(register_dtype<BFloat16>(h, r));
  XHAL_CPU_TRY(register_dtype<int8_t>(h, r));
  XHAL_CPU_TRY(register_dtype<uint8_t>(h, r));
  XHAL_CPU_TRY(register_dtype<int32_t>(h, r));
  XHAL_CPU_TRY(register_dtype<int64_t>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
