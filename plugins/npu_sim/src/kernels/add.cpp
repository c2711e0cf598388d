// npu_sim: add v1 — Elementwise addition with multidirectional broadcasting.
// Semantics: ONNX Add-14; the SDK's docs/ops/add.md.
// npu_sim computes float16, bfloat16 and float32 via bfloat16 (the manifest); nothing else
#include "elementwise.h"

namespace npu_sim {

xhal_status_t add_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* A,
    const xhal_tensor_t* B,
    const xhal_add_v1_attrs_t* attrs,
    xhal_tensor_t* C) {
  (void)attrs;
  return binary("add", BinaryOp::kAdd, ctx, A, B, C);
}

}  // namespace npu_sim
