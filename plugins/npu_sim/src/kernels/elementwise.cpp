// npu_sim: elementwise kernels (see elementwise.h).
#include "elementwise.h"

#include <cmath>

namespace npu_sim {

xhal_status_t binary(const char* op, BinaryOp kind, const xhal_kernel_context_t* ctx,
                     const xhal_tensor_t* A, const xhal_tensor_t* B, xhal_tensor_t* C) {
  Tensor a, b, c;
  xhal_status_t s;
  if ((s = capture(op, ctx, A, &a)) || (s = capture(op, ctx, B, &b)) ||
      (s = capture(op, ctx, C, &c)))
    return s;
  if (a.dtype != c.dtype || b.dtype != c.dtype)
    return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT, "dtypes differ (%d, %d -> %d)", a.dtype,
                   b.dtype, c.dtype);
  const size_t rank = c.shape.size();
  bool ok = a.shape.size() <= rank && b.shape.size() <= rank;
  for (size_t i = 0; ok && i < rank; ++i) {
    const int64_t da = i + a.shape.size() >= rank ? a.shape[i + a.shape.size() - rank] : 1;
    const int64_t db = i + b.shape.size() >= rank ? b.shape[i + b.shape.size() - rank] : 1;
    ok = (da == c.shape[i] || da == 1) && (db == c.shape[i] || db == 1);
  }
  if (!ok)
    return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT, "shapes %s and %s do not broadcast to %s",
                   shape_str(a.shape).c_str(), shape_str(b.shape).c_str(),
                   shape_str(c.shape).c_str());
  return launch(ctx, {&a, &b, &c}, [a, b, c, kind](std::string&) {
    const std::vector<float> va = load(a), vb = load(b);
    const std::vector<int64_t> sa = broadcast_strides(a.shape, c.shape);
    const std::vector<int64_t> sb = broadcast_strides(b.shape, c.shape);
    std::vector<float> out(static_cast<size_t>(c.numel));
    std::vector<int64_t> index(c.shape.size(), 0);
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < c.numel; ++i) {
      const float x = va[ia], y = vb[ib];
      switch (kind) {
        case BinaryOp::kAdd: out[i] = x + y; break;
        case BinaryOp::kSub: out[i] = x - y; break;
        case BinaryOp::kMul: out[i] = x * y; break;
        case BinaryOp::kDiv: out[i] = x / y; break;
      }
      for (size_t d = c.shape.size(); d-- > 0;) {  // odometer over the output index
        ia += sa[d];
        ib += sb[d];
        if (++index[d] < c.shape[d]) break;
        ia -= sa[d] * c.shape[d];
        ib -= sb[d] * c.shape[d];
        index[d] = 0;
      }
    }
    store(c, out);
    return XHAL_OK;
  });
}

xhal_status_t unary(const char* op, UnaryOp kind, const xhal_kernel_context_t* ctx,
                    const xhal_tensor_t* X, xhal_tensor_t* Y) {
  Tensor x, y;
  xhal_status_t s;
  if ((s = capture(op, ctx, X, &x)) || (s = capture(op, ctx, Y, &y))) return s;
  if (x.dtype != y.dtype || x.shape != y.shape)
    return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT, "input %s and output %s differ",
                   shape_str(x.shape).c_str(), shape_str(y.shape).c_str());
  return launch(ctx, {&x, &y}, [x, y, kind](std::string&) {
    std::vector<float> v = load(x);
    for (float& e : v) {
      switch (kind) {
        case UnaryOp::kRelu: e = e > 0.0f ? e : (e == e ? 0.0f : e); break;
        case UnaryOp::kSigmoid: e = 1.0f / (1.0f + std::exp(-e)); break;
        case UnaryOp::kExp: e = std::exp(e); break;
      }
    }
    store(y, v);
    return XHAL_OK;
  });
}

}  // namespace npu_sim
