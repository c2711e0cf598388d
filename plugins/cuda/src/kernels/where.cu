// where: output = condition ? X : Y, the three broadcast together (NumPy rules), strided
// inputs, for every dtype (float32/float64/float16/bfloat16/int8/uint8/int32/int64/bool) on the
// elementwise engine.
//
// How: elements are moved bit for bit, so one kernel per element width (1, 2, 4, 8 bytes)
// serves every dtype of that width; the entry point checks the registered dtype first.
// Not done: nothing beyond the select (no NaN canonicalisation: values are copied as is).
#include <cstdint>

#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

struct SelectOp {
  template <class U>
  __device__ U operator()(bool c, U x, U y) const {
    return c ? x : y;
  }
};

template <size_t W> struct Bits;
template <> struct Bits<1> { using type = uint8_t; };
template <> struct Bits<2> { using type = uint16_t; };
template <> struct Bits<4> { using type = uint32_t; };
template <> struct Bits<8> { using type = uint64_t; };

template <class T>
xhal_status_t where_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* condition,
                          const xhal_tensor_t* X, const xhal_tensor_t* Y,
                          const xhal_where_v1_attrs_t* /*attrs: none*/,
                          xhal_tensor_t* output) noexcept {
  return guarded("where", [&] {
    using U = typename Bits<sizeof(T)>::type;
    Call call;
    XHAL_CUDA_TRY(begin_call("where", ctx, &call));
    constexpr int32_t dt = dtype_of<T>();
    XHAL_CUDA_TRY(check_tensor(call, "input condition", condition, XHAL_DTYPE_BOOL));
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "input Y", Y, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output", output, dt));
    const Shape sc = shape_of(condition), sx = shape_of(X), sy = shape_of(Y);
    Shape cx, s;
    if (!ew::broadcast2(sc, sx, &cx) || !ew::broadcast2(cx, sy, &s))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "where: shapes condition %s, X %s and Y %s do not broadcast",
                  to_string(sc).c_str(), to_string(sx).c_str(), to_string(sy).c_str());
    XHAL_CUDA_TRY(check_shape(call, "output", output, s));
    return ew::map<U, bool, U, U>(call, "where", SelectOp{}, output, s, {condition, X, Y});
  });
}

template <class... Ts>
xhal_status_t register_types(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st
                       : xhal_register_where_v1(h, r, where_entry<Ts>, XHAL_DTYPE_BOOL,
                                                dtype_of<Ts>(), XHAL_KERNEL_FLAG_STRIDED_INPUTS,
                                                "cuda.where")),
   ...);
  return st;
}

xhal_status_t register_where_family(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_types<float, double, __half, __nv_bfloat16, int8_t, uint8_t, int32_t, int64_t,
                        bool>(h, r);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(where, register_where_family);

}  // namespace xhal_cuda
