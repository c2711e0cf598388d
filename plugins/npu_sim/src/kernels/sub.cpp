// npu_sim: sub v1 — Elementwise subtraction with multidirectional broadcasting.
// Semantics: ONNX Sub-14; the SDK's docs/ops/sub.md.
// npu_sim computes float16 and bfloat16; the spec's other dtypes are unsupported
#include "elementwise.h"

namespace npu_sim {

xhal_status_t sub_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_sub_v1_attrs_t* attrs,
    xhal_tensor_t* C) {
  (void)attrs;
  return binary("sub", BinaryOp::kSub, ctx, A, B, C);
}

}  // namespace npu_sim
