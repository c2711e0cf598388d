// npu_sim: transpose v1 — Permute the axes of a tensor.
// Semantics: ONNX Transpose-13; the SDK's docs/ops/transpose.md.
// npu_sim computes float16 and bfloat16; the spec's other dtypes are unsupported
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t transpose_v1(
    const xhal_kernel_context_t* ctx,
    const xhal_tensor_t* data,
    const xhal_transpose_v1_attrs_t* attrs,
    xhal_tensor_t* transposed) {
  Tensor x, y;
  xhal_status_t s;
  if ((s = capture("transpose", ctx, data, &x)) || (s = capture("transpose", ctx, transposed, &y)))
    return s;
  const int64_t rank = x.rank();
  std::vector<int64_t> perm;
  if (attrs->perm_count == 0) {
    for (int64_t i = rank; i-- > 0;) perm.push_back(i);
  } else {
    perm.assign(attrs->perm, attrs->perm + attrs->perm_count);  // copied now
  }
  std::vector<bool> seen(static_cast<size_t>(rank), false);
  bool ok = static_cast<int64_t>(perm.size()) == rank && y.rank() == rank && x.dtype == y.dtype;
  for (size_t i = 0; ok && i < perm.size(); ++i) {
    if (perm[i] < 0) perm[i] += rank;
    ok = perm[i] >= 0 && perm[i] < rank && !seen[perm[i]] && y.shape[i] == x.dim(perm[i]);
    if (ok) seen[perm[i]] = true;
  }
  if (!ok)
    return fail_op("transpose", XHAL_ERROR_INVALID_ARGUMENT,
                   "perm is not a permutation of %s giving %s", shape_str(x.shape).c_str(),
                   shape_str(y.shape).c_str());
  return launch(ctx, {&x, &y}, [x, y, perm](std::string&) {
    const size_t es = xhal_dtype_size(x.dtype);
    const size_t rank = perm.size();
    std::vector<int64_t> in_strides(rank, 1), src_strides(rank);
    for (size_t i = rank; i-- > 1;) in_strides[i - 1] = in_strides[i] * x.shape[i];
    for (size_t i = 0; i < rank; ++i) src_strides[i] = in_strides[perm[i]];
    std::vector<int64_t> index(rank, 0);
    int64_t src = 0;
    for (int64_t i = 0; i < y.numel; ++i) {
      std::memcpy(y.data + i * es, x.data + src * es, es);
      for (size_t d = rank; d-- > 0;) {
        src += src_strides[d];
        if (++index[d] < y.shape[d]) break;
        src -= src_strides[d] * y.shape[d];
        index[d] = 0;
      }
    }
    return XHAL_OK;
  });
}

}  // namespace npu_sim
