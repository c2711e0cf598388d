// equal, less, greater, less_or_equal, greater_or_equal: bool results, broadcasting.
// IEEE comparisons (NaN compares false, unequal to itself; -0 == +0); float16/bfloat16 compare
// as widened to float32, which is exact.
#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

struct EqOp {
  static constexpr const char* name = "equal";
  template <class T>
  bool operator()(T a, T b) const {
    return a == b;
  }
};
struct LtOp {
  static constexpr const char* name = "less";
  template <class T>
  bool operator()(T a, T b) const {
    return a < b;
  }
};
struct GtOp {
  static constexpr const char* name = "greater";
  template <class T>
  bool operator()(T a, T b) const {
    return a > b;
  }
};
struct LeOp {
  static constexpr const char* name = "less_or_equal";
  template <class T>
  bool operator()(T a, T b) const {
    return a <= b;
  }
};
struct GeOp {
  static constexpr const char* name = "greater_or_equal";
  template <class T>
  bool operator()(T a, T b) const {
    return a >= b;
  }
};

template <class Op, class T, class Attrs>
xhal_status_t compare_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                            const xhal_tensor_t* B, const Attrs* /*attrs: none*/,
                            xhal_tensor_t* C) {
  return guarded(Op::name,
                 [&] { return ew::binary_apply<Op, T, T, bool>(Op::name, ctx, A, B, C); });
}

template <class T>
xhal_status_t register_dtype(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_equal_v1(h, r, compare_entry<EqOp, T, xhal_equal_v1_attrs_t>, dt,
                                      0, "xhal.cpu.equal"));
  XHAL_CPU_TRY(xhal_register_less_v1(h, r, compare_entry<LtOp, T, xhal_less_v1_attrs_t>, dt, 0,
                                     "xhal.cpu.less"));
  XHAL_CPU_TRY(xhal_register_greater_v1(h, r, compare_entry<GtOp, T, xhal_greater_v1_attrs_t>,
                                        dt, 0, "xhal.cpu.greater"));
  XHAL_CPU_TRY(xhal_register_less_or_equal_v1(
      h, r, compare_entry<LeOp, T, xhal_less_or_equal_v1_attrs_t>, dt, 0,
      "xhal.cpu.less_or_equal"));
  XHAL_CPU_TRY(xhal_register_greater_or_equal_v1(
      h, r, compare_entry<GeOp, T, xhal_greater_or_equal_v1_attrs_t>, dt, 0,
      "xhal.cpu.greater_or_equal"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_compare_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_dtype<float>(h, r));
  XHAL_CPU_TRY(register_dtype<double>(h, r));
  XHAL_CPU_TRY(register_dtype<Half>(h, r));
  XHAL_CPU_TRY(register_dtype<BFloat16>(h, r));
  XHAL_CPU_TRY(register_dtype<int8_t>(h, r));
  XHAL_CPU_TRY(register_dtype<uint8_t>(h, r));
  XHAL_CPU_TRY(register_dtype<int32_t>(h, r));
  XHAL_CPU_TRY(register_dtype<int64_t>(h, r));
  // equal alone also takes bool.
  XHAL_CPU_TRY(xhal_register_equal_v1(h, r, compare_entry<EqOp, bool, xhal_equal_v1_attrs_t>,
                                      XHAL_DTYPE_BOOL, 0, "xhal.cpu.equal"));
  return XHAL_OK;
}

}  // namespace xhal_cpu
