// slice for every dtype of the spec. starts/ends/axes/steps are normalised and clamped as in
// ONNX Slice-13. Trailing axes that are kept whole merge into one contiguous block; the last
// sliced axis then moves either one run of blocks per output row (step 1: a single memcpy) or
// one block per step (a strided word copy when the block is one element). Rows are spread
// across threads.
#include <algorithm>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "slice";

struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
};

xhal_status_t read_list(const char* name, const xhal_tensor_t* t, const int64_t** v,
                        int64_t* n) {
  if (t->ndim != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "slice: %s must be 1-D, got %s", name,
                to_string(dims_of(t)).c_str());
  *v = data_as<const int64_t>(t);
  *n = numel(t);
  return XHAL_OK;
}

template <class W>
void copy_strided(W* dst, const W* src, int64_t n, int64_t stride) {
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i * stride];
}

xhal_status_t slice_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                         const xhal_tensor_t* starts, const xhal_tensor_t* ends,
                         const xhal_tensor_t* axes, const xhal_tensor_t* steps,
                         xhal_tensor_t* out) {
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input data", data, dt));
  XHAL_CPU_TRY(check_tensor(kOp, "input starts", starts, XHAL_DTYPE_INT64));
  XHAL_CPU_TRY(check_tensor(kOp, "input ends", ends, XHAL_DTYPE_INT64));
  if (axes != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input axes", axes, XHAL_DTYPE_INT64));
  if (steps != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input steps", steps, XHAL_DTYPE_INT64));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const Dims dx = dims_of(data), dy = dims_of(out);
  const int64_t *st = nullptr, *en = nullptr, *ax = nullptr, *sp = nullptr;
  int64_t n = 0, n_en = 0, n_ax = 0, n_sp = 0;
  XHAL_CPU_TRY(read_list("starts", starts, &st, &n));
  XHAL_CPU_TRY(read_list("ends", ends, &en, &n_en));
  if (axes != nullptr) XHAL_CPU_TRY(read_list("axes", axes, &ax, &n_ax));
  if (steps != nullptr) XHAL_CPU_TRY(read_list("steps", steps, &sp, &n_sp));
  if (n_en != n || (axes != nullptr && n_ax != n) || (steps != nullptr && n_sp != n))
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "slice: starts, ends, axes and steps must have one length (%lld, %lld, %lld, "
                "%lld)",
                static_cast<long long>(n), static_cast<long long>(n_en),
                static_cast<long long>(axes ? n_ax : n), static_cast<long long>(steps ? n_sp : n));
  AxisSlice sl[kMaxRank];
  bool seen[kMaxRank] = {};
  for (int i = 0; i < dx.rank; ++i) sl[i].count = dx[i];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t given_axis = ax ? ax[i] : i;
    const int a = normalize_axis(given_axis, dx.rank);
    if (a < 0 || seen[a])
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "slice: axis %lld is out of range or repeated "
                  "for data %s", static_cast<long long>(given_axis), to_string(dx).c_str());
    seen[a] = true;
    const int64_t step = sp ? sp[i] : 1;
    if (step == 0) return fail(XHAL_ERROR_INVALID_ARGUMENT, "slice: steps must not contain 0");
    const int64_t dim = dx[a];
    int64_t s = st[i], e = en[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t count;
    if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? (e - s + step - 1) / step : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      count = s > e ? (s - e + (-step) - 1) / (-step) : 0;
    }
    sl[a] = {s, step, count};
  }
  Dims expect;
  for (int i = 0; i < dx.rank; ++i) expect.push_back(sl[i].count);
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "slice: output has shape %s; slicing %s gives %s",
                to_string(dy).c_str(), to_string(dx).c_str(), to_string(expect).c_str());
  const int64_t elem = xhal_dtype_size(dt);
  const char* x = data_as<const char>(data);
  char* y = data_as<char>(out);
  if (dy.numel() == 0) return XHAL_OK;
  // The last axis that is not kept whole; everything after it is one contiguous block.
  int k = dx.rank - 1;
  while (k >= 0 && sl[k].start == 0 && sl[k].step == 1 && sl[k].count == dx[k]) --k;
  if (k < 0) {
    copy_bytes(y, x, dx.numel() * elem);
    return XHAL_OK;
  }
  int64_t stride[kMaxRank];
  strides_of(dx, stride);
  const int64_t block = stride[k] * elem;  // bytes of the trailing whole axes
  const int64_t rows = product(dy, 0, k), cnt = sl[k].count;
  const int64_t row_bytes = cnt * block;
  parallel_for(rows, std::max<int64_t>(1, kCopyGrainBytes / row_bytes), [&](int64_t r0,
                                                                            int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t off = sl[k].start * stride[k], rem = r;
      for (int d = k - 1; d >= 0; --d) {
        const int64_t i = rem % dy[d];
        rem /= dy[d];
        off += (sl[d].start + i * sl[d].step) * stride[d];
      }
      const char* src = x + off * elem;
      char* dst = y + r * row_bytes;
      if (sl[k].step == 1) {
        std::memcpy(dst, src, static_cast<size_t>(row_bytes));
      } else if (block == elem) {
        with_word(elem, [&](auto w) {
          using W = decltype(w);
          copy_strided(reinterpret_cast<W*>(dst), reinterpret_cast<const W*>(src), cnt,
                       sl[k].step);
        });
      } else {
        for (int64_t j = 0; j < cnt; ++j)
          std::memcpy(dst + j * block, src + j * sl[k].step * block, static_cast<size_t>(block));
      }
    }
  });
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t slice_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                           const xhal_tensor_t* starts, const xhal_tensor_t* ends,
                           const xhal_tensor_t* axes, const xhal_tensor_t* steps,
                           const xhal_slice_v1_attrs_t* /*attrs*/, xhal_tensor_t* out) {
  return guarded(kOp, [&] { return slice_impl(DT, ctx, data, starts, ends, axes, steps, out); });
}

}  // namespace

xhal_status_t register_slice_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reg = [&](xhal_slice_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_slice_v1(h, r, fn, dt, 0, "xhal.cpu.slice");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(reg, slice_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
