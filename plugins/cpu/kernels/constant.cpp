// constant and constant_of_shape for every dtype of their specs. constant copies the one
// attribute that is set (a host tensor `value`, or value_float(s) as float32, value_int(s) as
// int64) into the output; constant_of_shape fills an output of the shape held by its host input
// with the one element of `value` (float32 zeros when absent). Both move opaque words, so one
// instantiation per dtype only checks types; large fills are split across threads.
#include <algorithm>
#include <cstring>

#include "kernels.h"
#include "movement.h"

namespace xhal_cpu {
namespace {

// Fills n elements of `elem` bytes at dst with the element at src.
void fill_words(void* dst, const void* src, int64_t n, int64_t elem) {
  if (n <= 0) return;
  with_word(elem, [&](auto word) {
    using W = decltype(word);
    W v;
    std::memcpy(&v, src, sizeof(W));
    W* y = static_cast<W*>(dst);
    parallel_for(n, std::max<int64_t>(1, kCopyGrainBytes / elem), [&](int64_t a, int64_t b) {
      std::fill(y + a, y + b, v);
    });
  });
}

xhal_status_t expect_shape(const char* op, const Dims& got, const Dims& want) {
  if (got != want)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output has shape %s; expected %s", op,
                to_string(got).c_str(), to_string(want).c_str());
  return XHAL_OK;
}

xhal_status_t expect_dtype(const char* op, const char* attr, int32_t out_dt, int32_t attr_dt) {
  if (out_dt != attr_dt)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: attribute %s gives dtype %d but the output is dtype %d", op, attr, attr_dt,
                out_dt);
  return XHAL_OK;
}

xhal_status_t constant_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                            const xhal_constant_v1_attrs_t* given, xhal_tensor_t* out) {
  constexpr const char* kOp = "constant";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const xhal_constant_v1_attrs_t at = read_attrs(given, xhal_constant_v1_attrs_init);
  const int set = (at.value != nullptr) + (at.value_float_given != 0) +
                  (at.value_floats_given != 0) + (at.value_int_given != 0) +
                  (at.value_ints_given != 0);
  if (set != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "constant: exactly one of value, value_float, value_floats, value_int, "
                "value_ints must be set, got %d",
                set);
  const Dims dy = dims_of(out);
  char* y = data_as<char>(out);
  if (at.value != nullptr) {
    XHAL_CPU_TRY(check_tensor(kOp, "attribute value", at.value, dt));
    XHAL_CPU_TRY(expect_shape(kOp, dy, dims_of(at.value)));
    copy_bytes(y, data_as<const char>(at.value), dy.numel() * xhal_dtype_size(dt));
    return XHAL_OK;
  }
  Dims want;
  if (at.value_float_given || at.value_floats_given) {
    XHAL_CPU_TRY(expect_dtype(kOp, at.value_float_given ? "value_float" : "value_floats", dt,
                              XHAL_DTYPE_FLOAT32));
    if (at.value_floats_given) want.push_back(at.value_floats_count);
    XHAL_CPU_TRY(expect_shape(kOp, dy, want));
    if (at.value_float_given)
      std::memcpy(y, &at.value_float, sizeof(float));
    else if (at.value_floats_count > 0)
      std::memcpy(y, at.value_floats, static_cast<size_t>(at.value_floats_count) * sizeof(float));
    return XHAL_OK;
  }
  XHAL_CPU_TRY(
      expect_dtype(kOp, at.value_int_given ? "value_int" : "value_ints", dt, XHAL_DTYPE_INT64));
  if (at.value_ints_given) want.push_back(at.value_ints_count);
  XHAL_CPU_TRY(expect_shape(kOp, dy, want));
  if (at.value_int_given)
    std::memcpy(y, &at.value_int, sizeof(int64_t));
  else if (at.value_ints_count > 0)
    std::memcpy(y, at.value_ints, static_cast<size_t>(at.value_ints_count) * sizeof(int64_t));
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t constant_kernel(const xhal_kernel_context_t* ctx,
                              const xhal_constant_v1_attrs_t* attrs, xhal_tensor_t* out) {
  return guarded("constant", [&] { return constant_impl(DT, ctx, attrs, out); });
}

xhal_status_t constant_of_shape_impl(int32_t dt, const xhal_kernel_context_t* ctx,
                                     const xhal_tensor_t* input,
                                     const xhal_constant_of_shape_v1_attrs_t* given,
                                     xhal_tensor_t* out) {
  constexpr const char* kOp = "constant_of_shape";
  XHAL_CPU_TRY(check_context(kOp, ctx));
  XHAL_CPU_TRY(check_tensor(kOp, "input input", input, XHAL_DTYPE_INT64));
  XHAL_CPU_TRY(check_tensor(kOp, "output output", out, dt));
  const xhal_constant_of_shape_v1_attrs_t at =
      read_attrs(given, xhal_constant_of_shape_v1_attrs_init);
  if (input->ndim != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "constant_of_shape: input must be 1-D, got shape %s",
                to_string(dims_of(input)).c_str());
  const int64_t n = numel(input);
  if (n > kMaxRank)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "constant_of_shape: input has %lld dimensions; at "
                "most %d are supported", static_cast<long long>(n), kMaxRank);
  const int64_t* dims = data_as<const int64_t>(input);
  Dims want;
  for (int64_t i = 0; i < n; ++i) {
    if (dims[i] < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "constant_of_shape: input[%lld] = %lld is negative",
                  static_cast<long long>(i), static_cast<long long>(dims[i]));
    want.push_back(dims[i]);
  }
  const Dims dy = dims_of(out);
  XHAL_CPU_TRY(expect_shape(kOp, dy, want));
  const int64_t elem = xhal_dtype_size(dt);
  if (at.value == nullptr) {
    XHAL_CPU_TRY(expect_dtype(kOp, "value (absent: float32 0)", dt, XHAL_DTYPE_FLOAT32));
    const float zero = 0.0f;
    fill_words(data_as<char>(out), &zero, dy.numel(), elem);
    return XHAL_OK;
  }
  XHAL_CPU_TRY(check_tensor(kOp, "attribute value", at.value, dt));
  if (numel(at.value) != 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "constant_of_shape: attribute value must hold one element, got shape %s",
                to_string(dims_of(at.value)).c_str());
  fill_words(data_as<char>(out), data_as<const char>(at.value), dy.numel(), elem);
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t constant_of_shape_kernel(const xhal_kernel_context_t* ctx,
                                       const xhal_tensor_t* input,
                                       const xhal_constant_of_shape_v1_attrs_t* attrs,
                                       xhal_tensor_t* out) {
  return guarded("constant_of_shape",
                 [&] { return constant_of_shape_impl(DT, ctx, input, attrs, out); });
}

}  // namespace

xhal_status_t register_constant_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  auto constant = [&](xhal_constant_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_constant_v1(h, r, fn, dt, 0, "xhal.cpu.constant");
  };
  auto of_shape = [&](xhal_constant_of_shape_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_constant_of_shape_v1(h, r, fn, dt, 0, "xhal.cpu.constant_of_shape");
  };
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(constant, constant_kernel);
  XHAL_CPU_REGISTER_MOVEMENT_DTYPES(of_shape, constant_of_shape_kernel);
  return XHAL_OK;
}

}  // namespace xhal_cpu
