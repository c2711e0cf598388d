// expand for every dtype of the spec: the input broadcast to broadcast(input.shape, shape).
// Output axes are merged where the input is contiguous across them or broadcast along both;
// each output row (innermost merged axis) is then either one memcpy of an input run or a fill
// with one input element. Rows are spread across threads.
#include <algorithm>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "expand";

template <class W>
void fill_words(W* dst, W v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = v;
}

xhal_status_t expand_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                          const xhal_tensor_t* shape, xhal_tensor_t* out) {
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input input", in, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "input shape", shape, XHAL_DTYPE_INT64));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  if (shape->ndim != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "expand: shape must be 1-D, got %s",
                to_string(dims_of(shape)).c_str());
  const int64_t n = numel(shape);
  if (n > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "expand: shape rank %lld exceeds %d",
                static_cast<long long>(n), kMaxRank);
  Dims target;
  const int64_t* s = data_as<const int64_t>(shape);
  for (int64_t i = 0; i < n; ++i) {
    if (s[i] < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "expand: shape[%lld] = %lld is negative",
                  static_cast<long long>(i), static_cast<long long>(s[i]));
    target.push_back(s[i]);
  }
  const Dims dx = dims_of(in), dy = dims_of(out);
  Dims expect;
  if (!broadcast_dims(dx, target, &expect))
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "expand: input %s does not broadcast with shape %s",
                to_string(dx).c_str(), to_string(target).c_str());
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "expand: output has shape %s; expected %s",
                to_string(dy).c_str(), to_string(expect).c_str());
  const int64_t total = dy.numel();
  if (total == 0) return XHAL_OK;
  const int64_t elem = xhal_dtype_size(dt);
  int64_t bs[kMaxRank];
  broadcast_strides(dx, dy, bs);
  // Merge axes, innermost first; size-1 output axes vanish.
  int64_t md[kMaxRank], ms[kMaxRank];
  int m = 0;
  for (int i = dy.rank - 1; i >= 0; --i) {
    if (dy[i] == 1) continue;
    if (m > 0 && ((bs[i] == 0 && ms[m - 1] == 0) || bs[i] == ms[m - 1] * md[m - 1])) {
      md[m - 1] *= dy[i];
      continue;
    }
    md[m] = dy[i];
    ms[m] = bs[i];
    ++m;
  }
  const char* x = data_as<const char>(in);
  char* y = data_as<char>(out);
  if (m == 0) {  // a single element
    std::memcpy(y, x, static_cast<size_t>(elem));
    return XHAL_OK;
  }
  // md[0] / ms[0] is the innermost merged axis; rows run over the others.
  const int64_t w = md[0], rows = total / w;
  const bool contiguous = ms[0] == 1;
  parallel_for(rows, std::max<int64_t>(1, kCopyGrainBytes / (w * elem)), [&](int64_t r0,
                                                                            int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t off = 0, rem = r;
      for (int d = 1; d < m; ++d) {
        off += (rem % md[d]) * ms[d];
        rem /= md[d];
      }
      char* dst = y + r * w * elem;
      const char* src = x + off * elem;
      if (contiguous) {
        std::memcpy(dst, src, static_cast<size_t>(w * elem));
      } else {
        with_word(elem, [&](auto word) {
          using W = decltype(word);
          W v;
          std::memcpy(&v, src, sizeof(W));
          fill_words(reinterpret_cast<W*>(dst), v, w);
        });
      }
    }
  });
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t expand_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                            const xhal_tensor_t* shape, const xhal_expand_v1_attrs_t* /*attrs*/,
                            xhal_tensor_t* out) {
  return guarded(kOp, [&] { return expand_impl(DT, ctx, in, shape, out); });
}

}  // namespace

xhal_status_t register_expand_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reg = [&](xhal_expand_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_expand_v1(h, r, fn, dt, 0, "xhal.cpu.expand");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(reg, expand_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
