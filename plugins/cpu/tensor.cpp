#include "tensor.h"

#include <cstdio>

#include "dtype.h"
#include "host.h"

namespace xhal_cpu {

const char* dtype_name(int32_t dtype) {
  switch (dtype) {
    case XHAL_DTYPE_FLOAT32:
      return "float32";
    case XHAL_DTYPE_UINT8:
      return "uint8";
    case XHAL_DTYPE_INT8:
      return "int8";
    case XHAL_DTYPE_UINT16:
      return "uint16";
    case XHAL_DTYPE_INT16:
      return "int16";
    case XHAL_DTYPE_INT32:
      return "int32";
    case XHAL_DTYPE_INT64:
      return "int64";
    case XHAL_DTYPE_BOOL:
      return "bool";
    case XHAL_DTYPE_FLOAT16:
      return "float16";
    case XHAL_DTYPE_FLOAT64:
      return "float64";
    case XHAL_DTYPE_UINT32:
      return "uint32";
    case XHAL_DTYPE_UINT64:
      return "uint64";
    case XHAL_DTYPE_BFLOAT16:
      return "bfloat16";
    default:
      return "undefined";
  }
}

Dims dims_of(const xhal_tensor_t* t) {
  Dims d;
  d.rank = t->ndim;
  for (int i = 0; i < t->ndim; ++i) d.d[i] = t->shape[i];
  return d;
}

std::string to_string(const Dims& dims) {
  std::string s = "[";
  for (int i = 0; i < dims.rank; ++i) {
    if (i) s += ", ";
    s += std::to_string(dims.d[i]);
  }
  return s + "]";
}

xhal_status_t check_context(const char* op, const xhal_kernel_context_t* ctx) {
  if (ctx != nullptr && XHAL_FIELD_PRESENT(ctx, xhal_kernel_context_t, device) && ctx->device != 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: device %d does not exist (xhal.cpu has 1)", op,
                static_cast<int>(ctx->device));
  return XHAL_OK;
}

xhal_status_t check_tensor(const char* op, const char* role, const xhal_tensor_t* t,
                           int32_t dtype) {
  const auto bad = [&](const char* what) {
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s %s", op, role, what);
  };
  if (t == nullptr) return bad("is NULL");
  if (t->ndim < 0) return bad("has a negative rank");
  if (t->ndim > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "%s: %s has rank %d; xhal.cpu supports up to %d", op, role,
                static_cast<int>(t->ndim), kMaxRank);
  if (t->ndim > 0 && t->shape == nullptr) return bad("has a NULL shape");
  const int64_t elem = xhal_dtype_size(dtype);
  // Bound the element count so byte sizes and index arithmetic cannot overflow int64.
  const int64_t limit = (int64_t{1} << 62) / elem;
  int64_t n = 1;
  bool empty = false;
  for (int i = 0; i < t->ndim; ++i) {
    const int64_t d = t->shape[i];
    if (d < 0) return bad("has a negative dimension");
    if (d == 0) empty = true;
    if (!empty && d > 0 && n > limit / d) return bad("has too many elements");
    if (!empty) n *= d;
  }
  if (empty) n = 0;
  const int32_t got = xhal_dtype_from_dl(t->dtype);
  if (got != dtype)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: %s has dtype %s (code %u, %u bits, %u lanes); this kernel takes %s", op, role,
                dtype_name(got), t->dtype.code, t->dtype.bits, t->dtype.lanes, dtype_name(dtype));
  if (t->device.device_type != XHAL_DL_CPU && t->device.device_type != XHAL_DL_CUDA_HOST)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: %s lives on DLPack device type %d, which the CPU cannot address", op, role,
                static_cast<int>(t->device.device_type));
  if (n == 0) return XHAL_OK;
  if (t->data == nullptr) return bad("has NULL data");
  const uintptr_t addr = reinterpret_cast<uintptr_t>(t->data) + t->byte_offset;
  if (addr % static_cast<uintptr_t>(elem) != 0)
    return bad("data is not aligned to its element size");
  if (t->strides != nullptr) {
    // Compact row-major; a dimension of size 1 may carry any stride (DLPack allows it).
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; --i) {
      if (t->shape[i] != 1 && t->strides[i] != expect)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: %s is not compact row-major (stride %lld at axis %d, expected %lld); this "
                    "kernel takes compact tensors",
                    op, role, static_cast<long long>(t->strides[i]), i,
                    static_cast<long long>(expect));
      expect *= t->shape[i];
    }
  }
  return XHAL_OK;
}

bool broadcast_dims(const Dims& a, const Dims& b, Dims* out) {
  const int r = a.rank > b.rank ? a.rank : b.rank;
  out->rank = r;
  for (int i = 0; i < r; ++i) {
    const int ia = i - (r - a.rank), ib = i - (r - b.rank);
    const int64_t da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
    if (da == db || db == 1) {
      out->d[i] = da;
    } else if (da == 1) {
      out->d[i] = db;
    } else {
      return false;
    }
  }
  return true;
}

void broadcast_strides(const Dims& in, const Dims& out, int64_t* strides) {
  int64_t s = 1;
  for (int i = out.rank - 1; i >= 0; --i) {
    const int j = i - (out.rank - in.rank);
    if (j < 0 || in.d[j] == 1) {
      strides[i] = 0;
    } else {
      strides[i] = s;
    }
    if (j >= 0) s *= in.d[j];
  }
}

}  // namespace xhal_cpu
