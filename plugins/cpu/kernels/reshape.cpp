// reshape for every dtype of the spec (float32/float64/float16/bfloat16/int32/int64/bool/int8/
// uint8):
// resolves the host-memory `shape` input with the ONNX rules (0 copies the input dimension
// unless allowzero, one -1 is inferred), checks it against the output, then copies the bytes
// (row-major order is unchanged by a reshape).
#include <cstring>

#include "common.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "reshape";

xhal_status_t resolve_shape(const Dims& in, const int64_t* spec, int64_t n, bool allowzero,
                            Dims* out) {
  if (n > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "reshape: target rank %lld exceeds %d",
                static_cast<long long>(n), kMaxRank);
  int infer = -1;
  bool has_zero = false;
  int64_t known = 1;
  out->rank = static_cast<int>(n);
  for (int i = 0; i < out->rank; ++i) {
    int64_t d = spec[i];
    if (d == -1) {
      if (infer >= 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: more than one -1 in shape");
      infer = i;
      continue;
    }
    if (d < -1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: invalid dimension %lld in shape",
                  static_cast<long long>(d));
    if (d == 0 && !allowzero) {
      if (i >= in.rank)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "reshape: shape[%d] = 0 copies a dimension the input %s does not have", i,
                    to_string(in).c_str());
      d = in[i];
    }
    if (d == 0) has_zero = true;
    out->d[i] = d;
    if (d != 0 && known > (int64_t{1} << 62) / d)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: shape has too many elements");
    known *= d;
  }
  const int64_t total = in.numel();
  if (infer >= 0) {
    if (allowzero && has_zero)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reshape: -1 cannot be combined with a literal 0 when allowzero = 1");
    if (known == 0 || total % known != 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reshape: cannot infer -1 reshaping %s (%lld elements)", to_string(in).c_str(),
                  static_cast<long long>(total));
    out->d[infer] = total / known;
  } else if (known != total) {
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "reshape: %s has %lld elements; the new shape %s has %lld", to_string(in).c_str(),
                static_cast<long long>(total), to_string(*out).c_str(),
                static_cast<long long>(known));
  }
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t reshape_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                             const xhal_tensor_t* shape, const xhal_reshape_v1_attrs_t* given,
                             xhal_tensor_t* out) {
  return guarded(kOp, [&] {
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input data", data, DT));
    XHAL_CPU_TRY(check_tensor(kOp, "input shape", shape, XHAL_DTYPE_INT64));
    XHAL_CPU_TRY(check_tensor(kOp, "output reshaped", out, DT));
    const xhal_reshape_v1_attrs_t at = read_attrs(given, xhal_reshape_v1_attrs_init);
    if (at.allowzero != 0 && at.allowzero != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: allowzero (%lld) must be 0 or 1",
                  static_cast<long long>(at.allowzero));
    if (shape->ndim != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: shape must be 1-D, got %s",
                  to_string(dims_of(shape)).c_str());
    const Dims dx = dims_of(data), dy = dims_of(out);
    Dims expect;
    XHAL_CPU_TRY(
        resolve_shape(dx, data_as<const int64_t>(shape), numel(shape), at.allowzero == 1, &expect));
    if (expect != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reshape: output has shape %s; reshaping %s gives %s", to_string(dy).c_str(),
                  to_string(dx).c_str(), to_string(expect).c_str());
    const size_t bytes = static_cast<size_t>(dx.numel()) * xhal_dtype_size(DT);
    if (bytes == 0) return XHAL_OK;
    const char* src = data_as<const char>(data);
    char* dst = data_as<char>(out);
    if (src == dst) return XHAL_OK;                // reshaped in place
    if (src < dst + bytes && dst < src + bytes) {  // overlapping buffers: one ordered move
      std::memmove(dst, src, bytes);
      return XHAL_OK;
    }
    // Large copies are split across threads: one core cannot saturate memory bandwidth.
    parallel_for(static_cast<int64_t>(bytes), 4 * kParallelGrain * 8, [&](int64_t b, int64_t e) {
      std::memcpy(dst + b, src + b, static_cast<size_t>(e - b));
    });
    return XHAL_OK;
  });
}

template <int32_t DT>
xhal_status_t register_one(const xhal_host_api_t* h, xhal_registry_t r) {
  return xhal_register_reshape_v1(h, r, reshape_kernel<DT>, DT, 0, "xhal.cpu.reshape");
}

}  // namespace

xhal_status_t register_reshape_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_FLOAT32>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_FLOAT64>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_FLOAT16>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_BFLOAT16>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_INT32>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_INT64>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_BOOL>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_INT8>(h, r));
  XHAL_CPU_TRY(register_one<XHAL_DTYPE_UINT8>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
