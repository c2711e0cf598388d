// min, max: variadic (one or more inputs of float32/float64/float16/bfloat16/int8/uint8/int32/
// int64) with NumPy multidirectional broadcasting and strided inputs, on the elementwise engine.
//
// How: a pairwise fold into the output, as the CPU plugin (plugins/cpu/kernels/binary_minmax.cpp):
// out = op(X0, X1) (op(X0, X0) for a single input), then out = op(out, Xk) for k >= 2, each a
// broadcast binary launch on the stream; the output is read back at its own positions only, so
// the fold in place is safe. float16/bfloat16 select in float32, which is exact. Floats
// propagate NaN: a NaN in either operand gives NaN (`(a < b || a != a) ? a : b`).
// Not done: an N-ary kernel reading every input once (the fold costs one extra read and write
// of the output per input beyond two).
#include <cstdio>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

struct MinOp {
  static constexpr const char* name = "min";
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (std::is_floating_point<V>::value)
      return (a < b || a != a) ? a : b;  // a NaN: a; b NaN: the comparison fails, b
    else
      return a < b ? a : b;
  }
};

struct MaxOp {
  static constexpr const char* name = "max";
  template <class V>
  __device__ V operator()(V a, V b) const {
    if constexpr (std::is_floating_point<V>::value)
      return (a > b || a != a) ? a : b;
    else
      return a > b ? a : b;
  }
};

template <class Op, class T, class Attrs>
xhal_status_t minmax_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* const* X,
                           int32_t count, const Attrs* /*attrs: none*/,
                           xhal_tensor_t* Y) noexcept {
  return guarded(Op::name, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(Op::name, ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    if (X == nullptr || count < 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: needs at least one input, got %d", Op::name,
                  X == nullptr ? 0 : static_cast<int>(count));
    Shape s;
    for (int32_t k = 0; k < count; ++k) {
      char role[48];
      std::snprintf(role, sizeof(role), "input data_0[%d]", static_cast<int>(k));
      XHAL_CUDA_TRY(check_tensor(call, role, X[k], dt));
      const Shape sk = shape_of(X[k]);
      if (k == 0) {
        s = sk;
      } else if (!ew::broadcast2(s, sk, &s)) {
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: input data_0[%d] of shape %s does not broadcast with the earlier inputs "
                    "(broadcast so far: %s)",
                    Op::name, static_cast<int>(k), to_string(sk).c_str(), to_string(s).c_str());
      }
    }
    XHAL_CUDA_TRY(check_tensor(call, "output", Y, dt));
    XHAL_CUDA_TRY(check_shape(call, "output", Y, s));
    if (s.numel() == 0) return XHAL_OK;
    const xhal_tensor_t* second = count > 1 ? X[1] : X[0];
    XHAL_CUDA_TRY((ew::map<T, T, T>(call, Op::name, Op{}, Y, s, {X[0], second})));
    for (int32_t k = 2; k < count; ++k)
      XHAL_CUDA_TRY((ew::map<T, T, T>(call, Op::name, Op{}, Y, s, {Y, X[k]})));
    return XHAL_OK;
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

template <class T>
xhal_status_t register_for(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = dtype_of<T>();
  XHAL_CUDA_TRY(xhal_register_min_v1(h, r, minmax_entry<MinOp, T, xhal_min_v1_attrs_t>, dt,
                                     kFlags, "cuda.min"));
  return xhal_register_max_v1(h, r, minmax_entry<MaxOp, T, xhal_max_v1_attrs_t>, dt, kFlags,
                              "cuda.max");
}

xhal_status_t register_minmax_family(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CUDA_TRY(register_for<float>(h, r));
  XHAL_CUDA_TRY(register_for<double>(h, r));
  XHAL_CUDA_TRY(register_for<__half>(h, r));
  XHAL_CUDA_TRY(register_for<__nv_bfloat16>(h, r));
  XHAL_CUDA_TRY(register_for<int8_t>(h, r));
  XHAL_CUDA_TRY(register_for<uint8_t>(h, r));
  XHAL_CUDA_TRY(register_for<int32_t>(h, r));
  return register_for<int64_t>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(binary_minmax, register_minmax_family);

}  // namespace xhal_cuda
