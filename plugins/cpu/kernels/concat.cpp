// concat for every dtype of the spec: the output is, for each index over the axes before
// `axis` (the "outer" rows), the inputs' contiguous blocks of (axis .. last) one after the
// other. Each block is one memcpy; rows are spread across threads, and a single row (axis 0)
// copies each input with a threaded memcpy.
#include <algorithm>
#include <vector>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "concat";

xhal_status_t concat_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                          const xhal_tensor_t* const* inputs, int32_t count,
                          const xhal_concat_v1_attrs_t* given, xhal_tensor_t* out) {
  XHAL_CPU_TRY(check_context(kOp, ctx));
  if (count < 1 || inputs == nullptr)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "concat: needs at least one input, got %d", count);
  for (int32_t k = 0; k < count; ++k) XHAL_CPU_TRY(check_tensor(kOp, "input", inputs[k], dt));
  XHAL_CPU_TRY(check_tensor(kOp, "output concat_result", out, dt));
  const xhal_concat_v1_attrs_t at = read_attrs(given, xhal_concat_v1_attrs_init);
  const Dims d0 = dims_of(inputs[0]), dy = dims_of(out);
  const int axis = normalize_axis(at.axis, d0.rank);
  if (axis < 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "concat: axis %lld is out of range for inputs[0] %s",
                static_cast<long long>(at.axis), to_string(d0).c_str());
  Dims expect = d0;
  expect[axis] = 0;
  for (int32_t k = 0; k < count; ++k) {
    const Dims dk = dims_of(inputs[k]);
    bool ok = dk.rank == d0.rank;
    for (int i = 0; ok && i < d0.rank; ++i) ok = i == axis || dk[i] == d0[i];
    if (!ok)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "concat: inputs[%d] %s does not match inputs[0] %s off axis %d", k,
                  to_string(dk).c_str(), to_string(d0).c_str(), axis);
    expect[axis] += dk[axis];
  }
  if (expect != dy)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "concat: output has shape %s; expected %s",
                to_string(dy).c_str(), to_string(expect).c_str());
  const int64_t elem = xhal_dtype_size(dt);
  const int64_t outer = product(dy, 0, axis);
  const int64_t inner = product(dy, axis + 1, dy.rank) * elem;  // bytes per axis step
  const int64_t row = dy[axis] * inner;                           // bytes per output row
  if (outer == 0 || row == 0) return XHAL_OK;
  char* y = data_as<char>(out);
  std::vector<const char*> src(static_cast<size_t>(count));
  std::vector<int64_t> width(static_cast<size_t>(count)), offset(static_cast<size_t>(count));
  int64_t off = 0;
  for (int32_t k = 0; k < count; ++k) {
    src[k] = data_as<const char>(inputs[k]);
    width[k] = dims_of(inputs[k])[axis] * inner;
    offset[k] = off;
    off += width[k];
  }
  if (outer == 1) {
    for (int32_t k = 0; k < count; ++k) copy_bytes(y + offset[k], src[k], width[k]);
    return XHAL_OK;
  }
  parallel_for(outer, std::max<int64_t>(1, kCopyGrainBytes / row), [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o)
      for (int32_t k = 0; k < count; ++k)
        if (width[k] > 0)
          std::memcpy(y + o * row + offset[k], src[k] + o * width[k],
                      static_cast<size_t>(width[k]));
  });
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t concat_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* const* inputs,
                            int32_t count, const xhal_concat_v1_attrs_t* attrs,
                            xhal_tensor_t* out) {
  return guarded(kOp, [&] { return concat_impl(DT, ctx, inputs, count, attrs, out); });
}

}  // namespace

xhal_status_t register_concat_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reg = [&](xhal_concat_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_concat_v1(h, r, fn, dt, 0, "xhal.cpu.concat");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(reg, concat_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
