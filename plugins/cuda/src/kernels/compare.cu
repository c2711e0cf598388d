// equal, less, greater, less_or_equal, greater_or_equal (float32/float64/float16/bfloat16/int8/
// uint8/int32/int64, and bool for equal): bool results, NumPy multidirectional broadcasting,
// strided inputs, on the elementwise engine (elementwise.cuh).
//
// IEEE comparisons as the CPU plugin (plugins/cpu/kernels/compare.cpp): NaN compares false and
// unequal to itself, -0 == +0; float16/bfloat16 compare widened to float32, which is exact.
// Not done: nothing beyond a plain elementwise comparison.
#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

struct EqOp {
  static constexpr const char* name = "equal";
  template <class V>
  __device__ bool operator()(V a, V b) const {
    return a == b;
  }
};
struct LtOp {
  static constexpr const char* name = "less";
  template <class V>
  __device__ bool operator()(V a, V b) const {
    return a < b;
  }
};
struct GtOp {
  static constexpr const char* name = "greater";
  template <class V>
  __device__ bool operator()(V a, V b) const {
    return a > b;
  }
};
struct LeOp {
  static constexpr const char* name = "less_or_equal";
  template <class V>
  __device__ bool operator()(V a, V b) const {
    return a <= b;
  }
};
struct GeOp {
  static constexpr const char* name = "greater_or_equal";
  template <class V>
  __device__ bool operator()(V a, V b) const {
    return a >= b;
  }
};

template <class Op, class T, class Attrs>
xhal_status_t compare_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                            const xhal_tensor_t* B, const Attrs* /*attrs: none*/,
                            xhal_tensor_t* C) noexcept {
  return guarded(Op::name, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(Op::name, ctx, &call));
    return ew::binary<T, T, bool>(call, Op{}, A, B, C);
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <class T>
xhal_status_t register_for(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(xhal_register_equal_v1(h, r, compare_entry<EqOp, T, xhal_equal_v1_attrs_t>, dt,
                                       kFlags, "cuda.equal"));
  XHAL_CUDA_TRY(xhal_register_less_v1(h, r, compare_entry<LtOp, T, xhal_less_v1_attrs_t>, dt,
                                      kFlags, "cuda.less"));
  XHAL_CUDA_TRY(xhal_register_greater_v1(h, r, compare_entry<GtOp, T, xhal_greater_v1_attrs_t>,
                                         dt, kFlags, "cuda.greater"));
  XHAL_CUDA_TRY(xhal_register_less_or_equal_v1(
      h, r, compare_entry<LeOp, T, xhal_less_or_equal_v1_attrs_t>, dt, kFlags,
      "cuda.less_or_equal"));
  return xhal_register_greater_or_equal_v1(
      h, r, compare_entry<GeOp, T, xhal_greater_or_equal_v1_attrs_t>, dt, kFlags,
      "cuda.greater_or_equal");
}

xhal_status_t register_compare_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_for<float>(h, r));
  XHAL_CUDA_TRY(register_for<double>(h, r));
  XHAL_CUDA_TRY(register_for<__half>(h, r));
  XHAL_CUDA_TRY(register_for<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_for<int8_t>(h, r));
  XHAL_CUDA_TRY(register_for<uint8_t>(h, r));
  XHAL_CUDA_TRY(register_for<int32_t>(h, r));
  XHAL_CUDA_TRY(register_for<int64_t>(h, r));
  // equal alone also takes bool.
  return xhal_register_equal_v1(h, r, compare_entry<EqOp, bool, xhal_equal_v1_attrs_t>,
                                XHAL_DTYPE_BOOL, kFlags, "cuda.equal");
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(compare, register_compare_family);

}  // namespace xhal_cuda
