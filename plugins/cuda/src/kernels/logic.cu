// logical_and, logical_or, logical_xor (ONNX And, Or, Xor: bool with NumPy multidirectional
// broadcasting) and logical_not (ONNX Not), strided inputs, on the elementwise engine.
// Not done: bit-packed or vectorised variants; bool is one byte per element as in DLPack.
#include "dtypes.cuh"
#include "elementwise.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

struct AndOp {
  static constexpr const char* name = "logical_and";
  __device__ bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp {
  static constexpr const char* name = "logical_or";
  __device__ bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp {
  static constexpr const char* name = "logical_xor";
  __device__ bool operator()(bool a, bool b) const { return a != b; }
};
struct NotOp {
  __device__ bool operator()(bool a) const { return !a; }
};

template <class Op, class Attrs>
xhal_status_t logic_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                          const xhal_tensor_t* B, const Attrs* /*attrs: none*/,
                          xhal_tensor_t* C) noexcept {
  return guarded(Op::name, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(Op::name, ctx, &call));
    return ew::binary<bool, bool, bool>(call, Op{}, A, B, C);
  });
}

xhal_status_t not_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                        const xhal_logical_not_v1_attrs_t* /*attrs: none*/,
                        xhal_tensor_t* Y) noexcept {
  return guarded("logical_not", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("logical_not", ctx, &call));
    return ew::unary<bool, bool>(call, NotOp{}, X, Y);
  });
}

constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

xhal_status_t register_logic_family(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = XHAL_DTYPE_BOOL;
  XHAL_CUDA_TRY(xhal_register_logical_and_v1(
      h, r, logic_entry<AndOp, xhal_logical_and_v1_attrs_t>, dt, kFlags, "cuda.logical_and"));
  XHAL_CUDA_TRY(xhal_register_logical_or_v1(h, r, logic_entry<OrOp, xhal_logical_or_v1_attrs_t>,
                                            dt, kFlags, "cuda.logical_or"));
  XHAL_CUDA_TRY(xhal_register_logical_xor_v1(
      h, r, logic_entry<XorOp, xhal_logical_xor_v1_attrs_t>, dt, kFlags, "cuda.logical_xor"));
  return xhal_register_logical_not_v1(h, r, not_entry, dt, kFlags, "cuda.logical_not");
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(logic, register_logic_family);

}  // namespace xhal_cuda
