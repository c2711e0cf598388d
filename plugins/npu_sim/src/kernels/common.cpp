// npu_sim: kernel helpers (see common.h).
#include "common.h"

#include <cstdarg>

namespace npu_sim {

xhal_status_t fail_op(const char* op, xhal_status_t status, const char* fmt, ...) {
  char message[320];
  int n = std::snprintf(message, sizeof(message), "%s: ", op);
  if (n < 0) n = 0;
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(message + n, sizeof(message) - static_cast<size_t>(n), fmt, args);
  va_end(args);
  return host()->set_error(status, message);
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

xhal_status_t capture(const char* op, const xhal_kernel_context_t* ctx, const xhal_tensor_t* t,
                      Tensor* out) {
  *out = Tensor{};
  if (t == nullptr) return XHAL_OK;
  out->dtype = xhal_dtype_from_dl(t->dtype);
  if (out->dtype != XHAL_DTYPE_FLOAT16 && out->dtype != XHAL_DTYPE_BFLOAT16 &&
      out->dtype != XHAL_DTYPE_FLOAT32)
    return fail_op(op, XHAL_ERROR_UNSUPPORTED, "dtype %d is not computed by npu_sim", out->dtype);
  if (t->ndim < 0 || (t->ndim > 0 && t->shape == nullptr))
    return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT, "bad tensor descriptor (ndim %d)", t->ndim);
  out->shape.assign(t->shape, t->shape + t->ndim);
  for (int64_t d : out->shape) {
    if (d < 0) return fail_op(op, XHAL_ERROR_INVALID_ARGUMENT, "negative dimension %lld",
                              static_cast<long long>(d));
    out->numel *= d;
  }
  const uint64_t bytes = static_cast<uint64_t>(out->numel) * xhal_dtype_size(out->dtype);
  const uint8_t* base = static_cast<const uint8_t*>(t->data);
  if (base != nullptr) base += t->byte_offset;
  return translate(ctx->device, bytes == 0 ? nullptr : base, bytes, op, &out->data);
}

std::vector<int64_t> host_int64s(const xhal_tensor_t* t) {
  if (t == nullptr || t->data == nullptr) return {};
  int64_t n = 1;
  for (int32_t i = 0; i < t->ndim; ++i) n *= t->shape[i];
  const int64_t* p = reinterpret_cast<const int64_t*>(static_cast<const uint8_t*>(t->data) +
                                                      t->byte_offset);
  return std::vector<int64_t>(p, p + n);
}

std::vector<float> load(const Tensor& t) {
  std::vector<float> v(static_cast<size_t>(t.numel));
  const uint16_t* h = reinterpret_cast<const uint16_t*>(t.data);
  switch (t.dtype) {
    case XHAL_DTYPE_FLOAT16:
      for (int64_t i = 0; i < t.numel; ++i) v[i] = half_to_float(h[i]);
      break;
    case XHAL_DTYPE_BFLOAT16:
      for (int64_t i = 0; i < t.numel; ++i) v[i] = bfloat16_to_float(h[i]);
      break;
    default: {  // float32: what the NPU's bfloat16 datapath sees
      const float* f = reinterpret_cast<const float*>(t.data);
      for (int64_t i = 0; i < t.numel; ++i) v[i] = bfloat16_to_float(float_to_bfloat16(f[i]));
    }
  }
  return v;
}

void store(const Tensor& t, const std::vector<float>& values) {
  uint16_t* h = reinterpret_cast<uint16_t*>(t.data);
  switch (t.dtype) {
    case XHAL_DTYPE_FLOAT16:
      for (int64_t i = 0; i < t.numel; ++i) h[i] = float_to_half(values[i]);
      break;
    case XHAL_DTYPE_BFLOAT16:
      for (int64_t i = 0; i < t.numel; ++i) h[i] = float_to_bfloat16(values[i]);
      break;
    default:
      if (t.numel > 0) std::memcpy(t.data, values.data(), static_cast<size_t>(t.numel) * 4);
  }
}

xhal_status_t launch(const xhal_kernel_context_t* ctx, std::initializer_list<const Tensor*> uses,
                     Task task) {
  if (ctx == nullptr) return host()->set_error(XHAL_ERROR_INVALID_ARGUMENT, "kernel: ctx is NULL");
  std::vector<std::pair<const uint8_t*, uint64_t>> ranges;
  for (const Tensor* t : uses)
    if (t->data != nullptr)
      ranges.emplace_back(t->data, static_cast<uint64_t>(t->numel) * xhal_dtype_size(t->dtype));
  return enqueue(ctx->stream, [ranges, task](std::string& message) {
    for (const auto& r : ranges) {
      if (!still_live(r.first, r.second)) {
        message = "kernel: a device buffer it uses was freed before the queued kernel ran";
        return XHAL_ERROR_INVALID_ARGUMENT;
      }
    }
    return task(message);
  });
}

std::vector<int64_t> broadcast_strides(const std::vector<int64_t>& shape,
                                       const std::vector<int64_t>& out_shape) {
  std::vector<int64_t> strides(out_shape.size(), 0);
  int64_t stride = 1;
  const size_t lead = out_shape.size() - shape.size();
  for (size_t i = shape.size(); i-- > 0;) {
    strides[lead + i] = shape[i] == 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides;
}

}  // namespace npu_sim
