// split for every dtype of the spec: the inverse of concat. Output k takes, for each index
// over the axes before `axis`, a contiguous block of the input's row; one memcpy per block,
// rows spread across threads (axis 0: one threaded memcpy per output).
#include <algorithm>
#include <vector>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "split";

xhal_status_t split_impl(int32_t dt, const xhal_kernel_context_t* ctx, const xhal_tensor_t* input,
                         const xhal_tensor_t* split, const xhal_split_v1_attrs_t* given,
                         xhal_tensor_t* const* outputs, int32_t count) {
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input input", input, dt));
  if (split != nullptr) XHAL_CPU_TRY(check_tensor(kOp, "input split", split, XHAL_DTYPE_INT64));
  if (count < 1 || outputs == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: needs at least one output, got %d", count);
  for (int32_t k = 0; k < count; ++k) XHAL_CPU_TRY(check_tensor(kOp, "output", outputs[k], dt));
  const xhal_split_v1_attrs_t at = read_attrs(given, xhal_split_v1_attrs_init);
  const Dims dx = dims_of(input);
  const int axis = normalize_axis(at.axis, dx.rank);
  if (axis < 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: axis %lld is out of range for input %s",
                static_cast<long long>(at.axis), to_string(dx).c_str());
  const int64_t dim = dx[axis];
  std::vector<int64_t> sizes;
  if (split != nullptr) {
    if (at.num_outputs != 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "split: give either the split input or num_outputs (%lld), not both",
                  static_cast<long long>(at.num_outputs));
    if (split->ndim != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: split must be 1-D, got %s",
                  to_string(dims_of(split)).c_str());
    const int64_t* s = data_as<const int64_t>(split);
    int64_t sum = 0;
    for (int64_t i = 0; i < numel(split); ++i) {
      if (s[i] < 0 || s[i] > dim)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: split[%lld] = %lld is not in [0, %lld]",
                    static_cast<long long>(i), static_cast<long long>(s[i]),
                    static_cast<long long>(dim));
      sum += s[i];
      sizes.push_back(s[i]);
    }
    if (sum != dim)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "split: split sums to %lld, axis %d of input %s has %lld",
                  static_cast<long long>(sum), axis, to_string(dx).c_str(),
                  static_cast<long long>(dim));
  } else {
    const int64_t n = at.num_outputs;
    if (n <= 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "split: neither the split input nor a positive num_outputs (%lld) is given",
                  static_cast<long long>(n));
    const int64_t chunk = (dim + n - 1) / n, last = dim - chunk * (n - 1);
    if (last < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: cannot split %lld into %lld parts of %lld",
                  static_cast<long long>(dim), static_cast<long long>(n),
                  static_cast<long long>(chunk));
    sizes.assign(static_cast<size_t>(n), chunk);
    sizes.back() = last;
  }
  if (static_cast<int64_t>(sizes.size()) != count)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: %d outputs given, the split makes %lld",
                count, static_cast<long long>(sizes.size()));
  for (int32_t k = 0; k < count; ++k) {
    Dims expect = dx;
    expect[axis] = sizes[k];
    if (expect != dims_of(outputs[k]))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: outputs[%d] has shape %s; expected %s", k,
                  to_string(dims_of(outputs[k])).c_str(), to_string(expect).c_str());
  }
  const int64_t elem = xhal_dtype_size(dt);
  const int64_t outer = product(dx, 0, axis);
  const int64_t inner = product(dx, axis + 1, dx.rank) * elem;
  const int64_t row = dim * inner;
  if (outer == 0 || row == 0) return XHAL_OK;
  const char* x = data_as<const char>(input);
  std::vector<char*> dst(static_cast<size_t>(count));
  std::vector<int64_t> width(static_cast<size_t>(count)), offset(static_cast<size_t>(count));
  int64_t off = 0;
  for (int32_t k = 0; k < count; ++k) {
    dst[k] = data_as<char>(outputs[k]);
    width[k] = sizes[k] * inner;
    offset[k] = off;
    off += width[k];
  }
  if (outer == 1) {
    for (int32_t k = 0; k < count; ++k) copy_bytes(dst[k], x + offset[k], width[k]);
    return XHAL_OK;
  }
  parallel_for(outer, std::max<int64_t>(1, kCopyGrainBytes / row), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int32_t k = 0; k < count; ++k)
        if (width[k] > 0)
          std::memcpy(dst[k] + o * width[k], x + o * row + offset[k],
                      static_cast<size_t>(width[k]));
  });
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t split_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* input,
                           const xhal_tensor_t* split, const xhal_split_v1_attrs_t* attrs,
                           xhal_tensor_t* const* outputs, int32_t count) {
  return guarded(kOp, [&] { return split_impl(DT, ctx, input, split, attrs, outputs, count); });
}

}  // namespace

xhal_status_t register_split_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reg = [&](xhal_split_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_split_v1(h, r, fn, dt, 0, "xhal.cpu.split");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(reg, split_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
