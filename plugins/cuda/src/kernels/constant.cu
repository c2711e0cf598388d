// constant and constant_of_shape on CUDA, every dtype of their specs. Both produce values known
// on the host: constant uploads the one attribute that is set (a host tensor `value`, or
// value_float(s) as float32, value_int(s) as int64) through pinned staging (asynchronous; the
// attribute memory may go away once the call returns); constant_of_shape fills its output with
// the one element of `value` (float32 zero when absent), passed to the fill kernel by value.
// Values are moved as words of the element's size, so one device instantiation per size.
#include <cstring>

#include "../staging.h"
#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {


// Host bytes -> device, asynchronous on call.stream; `src` may be reused once this returns.
xhal_status_t upload(const Call& call, void* dst, const void* src, uint64_t bytes) {
  if (bytes == 0) return XHAL_OK;
  if (bytes <= kMaxStagedCopy) return staged_host_to_device(call.stream, dst, src, bytes);
  // Pageable source: CUDA returns once the source has been read (into its own staging).
  return check_cuda("constant (upload)",
                    cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, call.stream));
}

xhal_status_t expect_dtype(const Call& call, const char* attr, int32_t out_dt, int32_t attr_dt) {
  if (out_dt != attr_dt)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: attribute %s gives dtype %d but the output is dtype %d", call.op, attr,
                static_cast<int>(attr_dt), static_cast<int>(out_dt));
  return XHAL_OK;
}

xhal_status_t constant_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                            const xhal_constant_v1_attrs_t* given, xhal_tensor_t* out) {
  Call call;
  XHAL_CUDA_TRY(begin_call("constant", ctx, &call));
  XHAL_CUDA_TRY(check_tensor(call, "output", out, dt));
  const xhal_constant_v1_attrs_t at = read_attrs(given, xhal_constant_v1_attrs_init);
  const int set = (at.value != nullptr) + (at.value_float_given != 0) +
                  (at.value_floats_given != 0) + (at.value_int_given != 0) +
                  (at.value_ints_given != 0);
  if (set != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "constant: exactly one of value, value_float, value_floats, value_int, "
                "value_ints must be set, got %d",
                set);
  char* y = data_as<char>(out);
  if (at.value != nullptr) {
    XHAL_CUDA_TRY(check_host_tensor(call, "attribute value", at.value, dt));
    const Shape shape = shape_of(at.value);
    XHAL_CUDA_TRY(check_shape(call, "output", out, shape));
    if (!is_compact(at.value))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "constant: attribute value must be compact");
    return upload(call, y, data_as<const char>(at.value),
                  static_cast<uint64_t>(shape.numel()) * xhal_dtype_size(dt));
  }
  Shape want;
  if (at.value_float_given || at.value_floats_given) {
    XHAL_CUDA_TRY(expect_dtype(call, at.value_float_given ? "value_float" : "value_floats", dt,
                               XHAL_DTYPE_FLOAT32));
    if (at.value_floats_given) want.push_back(at.value_floats_count);
    XHAL_CUDA_TRY(check_shape(call, "output", out, want));
    if (at.value_float_given) return upload(call, y, &at.value_float, sizeof(float));
    return upload(call, y, at.value_floats,
                  static_cast<uint64_t>(at.value_floats_count) * sizeof(float));
  }
  XHAL_CUDA_TRY(expect_dtype(call, at.value_int_given ? "value_int" : "value_ints", dt,
                             XHAL_DTYPE_INT64));
  if (at.value_ints_given) want.push_back(at.value_ints_count);
  XHAL_CUDA_TRY(check_shape(call, "output", out, want));
  if (at.value_int_given) return upload(call, y, &at.value_int, sizeof(int64_t));
  return upload(call, y, at.value_ints,
                static_cast<uint64_t>(at.value_ints_count) * sizeof(int64_t));
}

template <int32_t DT>
xhal_status_t constant_kernel(const xhal_kernel_context_t* ctx,
                              const xhal_constant_v1_attrs_t* attrs, xhal_tensor_t* out) noexcept {
  return guarded("constant", [&] { return constant_impl(DT, ctx, attrs, out); });
}

template <class W>
xhal_status_t fill_word(const Call& call, void* dst, int64_t n, const void* value) {
  W v;
  std::memcpy(&v, value, sizeof(W));
  return mv::fill<W>(call, static_cast<W*>(dst), n, v);
}

xhal_status_t constant_of_shape_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                                     const xhal_tensor_t* input,
                                     const xhal_constant_of_shape_v1_attrs_t* given,
                                     xhal_tensor_t* out) {
  Call call;
  XHAL_CUDA_TRY(begin_call("constant_of_shape", ctx, &call));
  XHAL_CUDA_TRY(check_host_tensor(call, "input", input, XHAL_DTYPE_INT64));
  XHAL_CUDA_TRY(check_tensor(call, "output", out, dt));
  const xhal_constant_of_shape_v1_attrs_t at =
      read_attrs(given, xhal_constant_of_shape_v1_attrs_init);
  if (input->ndim != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "constant_of_shape: input must be 1-D, got shape %s",
                to_string(shape_of(input)).c_str());
  const int64_t rank = input->shape[0];
  if (rank > kMaxRank)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "constant_of_shape: input has %lld dimensions; at most %d are supported",
                static_cast<long long>(rank), kMaxRank);
  int64_t dims[kMaxRank];
  read_host_ints(input, dims, rank);
  Shape want;
  for (int64_t i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "constant_of_shape: input[%lld] = %lld is negative",
                  static_cast<long long>(i), static_cast<long long>(dims[i]));
    want.push_back(dims[i]);
  }
  XHAL_CUDA_TRY(check_shape(call, "output", out, want));
  uint64_t value = 0;  // float32 0 (all zero bits) when `value` is absent
  if (at.value != nullptr) {
    XHAL_CUDA_TRY(check_host_tensor(call, "attribute value", at.value, dt));
    if (shape_of(at.value).numel() != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "constant_of_shape: attribute value must hold one element, it has shape %s",
                  to_string(shape_of(at.value)).c_str());
    std::memcpy(&value, data_as<const char>(at.value), xhal_dtype_size(dt));
  } else if (dt != XHAL_DTYPE_FLOAT32) {
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "constant_of_shape: without attribute value the output is float32, not dtype %d",
                static_cast<int>(dt));
  }
  const int64_t n = want.numel();
  void* y = data_as<char>(out);
  switch (xhal_dtype_size(dt)) {
    case 1: return fill_word<uint8_t>(call, y, n, &value);
    case 2: return fill_word<uint16_t>(call, y, n, &value);
    case 4: return fill_word<uint32_t>(call, y, n, &value);
    default: return fill_word<uint64_t>(call, y, n, &value);
  }
}

template <int32_t DT>
xhal_status_t constant_of_shape_kernel(const xhal_kernel_context_t* ctx,
                                       const xhal_tensor_t* input,
                                       const xhal_constant_of_shape_v1_attrs_t* attrs,
                                       xhal_tensor_t* out) noexcept {
  return guarded("constant_of_shape",
                 [&] { return constant_of_shape_impl(DT, ctx, input, attrs, out); });
}

xhal_status_t register_constant_family(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  auto constant = [&](xhal_constant_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_constant_v1(h, r, fn, dt, kFlags, "cuda.constant");
  };
  auto constant_of_shape = [&](xhal_constant_of_shape_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_constant_of_shape_v1(h, r, fn, dt, kFlags, "cuda.constant_of_shape");
  };
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(constant, constant_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(constant_of_shape, constant_of_shape_kernel);
  return XHAL_OK;
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(constant, register_constant_family);

}  // namespace xhal_cuda
