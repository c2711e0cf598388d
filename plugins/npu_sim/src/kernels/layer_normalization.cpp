// npu_sim: layer_normalization v1 — normalise each row of prod(X.shape[axis:]) elements.
// Semantics: ONNX LayerNormalization-17; the SDK's docs/ops/layer_normalization.md.
// npu_sim computes float16 and bfloat16 (row statistics in float64, as the spec's reference:
// squares of bfloat16 values overflow float32); Mean and InvStdDev are float32. Added to the generated op list by hand.
#include <algorithm>
#include <cmath>

#include "common.h"

namespace npu_sim {

xhal_status_t layer_normalization_v1(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                                     const xhal_tensor_t* Scale, const xhal_tensor_t* B,
                                     const xhal_layer_normalization_v1_attrs_t* attrs,
                                     xhal_tensor_t* Y, xhal_tensor_t* Mean,
                                     xhal_tensor_t* InvStdDev) {
  const char* op = "layer_normalization";
  Tensor x, scale, b, y, mean, inv;
  xhal_status_t s;
  if ((s = capture(op, ctx, X, &x)) || (s = capture(op, ctx, Scale, &scale)) ||
      (s = capture(op, ctx, B, &b)) || (s = capture(op, ctx, Y, &y)) ||
      (s = capture(op, ctx, Mean, &mean)) || (s = capture(op, ctx, InvStdDev, &inv)))
    return s;
  const int64_t rank = x.rank();
  int64_t axis = attrs->axis;  // copied: attrs die with the call
  const float epsilon = attrs->epsilon;
  if (rank < 1 || axis < -rank || axis >= rank)
    return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT, "axis %lld is out of range for %s",
                   static_cast<long long>(axis), shape_str(x.shape).c_str());
  if (axis < 0) axis += rank;
  const std::vector<int64_t> inner_shape(x.shape.begin() + axis, x.shape.end());
  int64_t rows = 1, n = 1;
  for (int64_t i = 0; i < axis; ++i) rows *= x.dim(i);
  for (int64_t d : inner_shape) n *= d;
  auto fits = [&](const Tensor& p) {
    if (p.dtype == XHAL_DTYPE_UNDEFINED) return true;
    if (p.dtype != x.dtype || p.shape.size() > inner_shape.size()) return false;
    for (size_t i = 0; i < p.shape.size(); ++i) {
      const int64_t want = inner_shape[inner_shape.size() - p.shape.size() + i];
      if (p.shape[i] != want && p.shape[i] != 1) return false;
    }
    return true;
  };
  if (scale.dtype == XHAL_DTYPE_UNDEFINED || !fits(scale) || !fits(b) || y.shape != x.shape ||
      y.dtype != x.dtype || (mean.dtype != XHAL_DTYPE_UNDEFINED && mean.numel != rows) ||
      (inv.dtype != XHAL_DTYPE_UNDEFINED && inv.numel != rows))
    return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT,
                   "X %s, Scale %s, B %s and the outputs do not fit (axis %lld)",
                   shape_str(x.shape).c_str(), shape_str(scale.shape).c_str(),
                   shape_str(b.shape).c_str(), static_cast<long long>(axis));
  const Task task = [x, scale, b, y, mean, inv, inner_shape, rows, n, epsilon](std::string&) {
    const std::vector<float> vx = load(x), vs = load(scale);
    const bool has_b = b.dtype != XHAL_DTYPE_UNDEFINED;
    const std::vector<float> vb = has_b ? load(b) : std::vector<float>();
    // Scale and B broadcast to the row: per row element, the index into each.
    std::vector<int64_t> si(static_cast<size_t>(n)), bi(static_cast<size_t>(n));
    {
      const std::vector<int64_t> ss = broadcast_strides(scale.shape, inner_shape);
      const std::vector<int64_t> bs =
          has_b ? broadcast_strides(b.shape, inner_shape) : std::vector<int64_t>(ss.size(), 0);
      std::vector<int64_t> index(inner_shape.size(), 0);
      int64_t a = 0, c = 0;
      for (int64_t i = 0; i < n; ++i) {
        si[i] = a;
        bi[i] = c;
        for (size_t d = inner_shape.size(); d-- > 0;) {
          a += ss[d];
          c += bs[d];
          if (++index[d] < inner_shape[d]) break;
          a -= ss[d] * inner_shape[d];
          c -= bs[d] * inner_shape[d];
          index[d] = 0;
        }
      }
    }
    std::vector<float> out(static_cast<size_t>(x.numel)), means(static_cast<size_t>(rows)),
        invs(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = vx.data() + r * n;
      // float64 row statistics: squares of bfloat16 values (float32's range) overflow float32
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) sum += row[i];
      const double mu = n > 0 ? sum / static_cast<double>(n) : NAN;
      double sq = 0.0;
      for (int64_t i = 0; i < n; ++i) sq += (row[i] - mu) * (row[i] - mu);
      const double var = n > 0 ? sq / static_cast<double>(n) : NAN;
      const double denom = std::sqrt(var + static_cast<double>(epsilon));
      for (int64_t i = 0; i < n; ++i) {
        double v = (row[i] - mu) / denom * vs[si[i]];
        if (has_b) v += vb[bi[i]];
        out[r * n + i] = static_cast<float>(v);
      }
      means[r] = static_cast<float>(mu);
      invs[r] = static_cast<float>(1.0 / denom);
    }
    store(y, out);
    if (mean.dtype != XHAL_DTYPE_UNDEFINED) store(mean, means);
    if (inv.dtype != XHAL_DTYPE_UNDEFINED) store(inv, invs);
    return XHAL_OK;
  };
  return launch(ctx, {&x, &scale, &b, &y, &mean, &inv}, task);
}

}  // namespace npu_sim
