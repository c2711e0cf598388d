// logical_and, logical_or, logical_xor (ONNX And, Or, Xor): bool tensors, broadcasting.
#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

struct AndOp {
  static constexpr const char* name = "logical_and";
  bool operator()(bool a, bool b) const { return a && b; }
};
struct OrOp {
  static constexpr const char* name = "logical_or";
  bool operator()(bool a, bool b) const { return a || b; }
};
struct XorOp {
  static constexpr const char* name = "logical_xor";
  bool operator()(bool a, bool b) const { return a != b; }
};

template <class Op, class Attrs>
xhal_status_t logic_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                          const xhal_tensor_t* B, const Attrs* /*attrs: none*/, xhal_tensor_t* C) {
  return guarded(Op::name,
                 [&] { return ew::binary_apply<Op, bool, bool, bool>(Op::name, ctx, A, B, C); });
}

}  // namespace

xhal_status_t register_logic_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = XHAL_DTYPE_BOOL;
  XHAL_CPU_TRY(xhal_register_logical_and_v1(
      h, r, logic_entry<AndOp, xhal_logical_and_v1_attrs_t>, dt, 0, "xhal.cpu.logical_and"));
  XHAL_CPU_TRY(xhal_register_logical_or_v1(h, r, logic_entry<OrOp, xhal_logical_or_v1_attrs_t>,
                                           dt, 0, "xhal.cpu.logical_or"));
  XHAL_CPU_TRY(xhal_register_logical_xor_v1(
      h, r, logic_entry<XorOp, xhal_logical_xor_v1_attrs_t>, dt, 0, "xhal.cpu.logical_xor"));
  return XHAL_OK;
}

}  // namespace xhal_cpu
