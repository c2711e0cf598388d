// Helpers shared by the shape and data movement kernels (concat, split, slice, gather,
// gather_elements, flatten, squeeze, unsqueeze, expand, tile, shape, size). These kernels move
// elements as opaque 1/2/4/8-byte words, so one implementation per byte width serves every
// dtype; large copies are split across threads, since one core cannot saturate memory bandwidth.
#pragma once

#include <cstdint>
#include <cstring>

#include "common.h"

namespace xhal_cpu {

// Bytes of copy work below which waking other threads does not pay.
constexpr int64_t kCopyGrainBytes = 256 * 1024;

// memcpy of n bytes (non-overlapping), split across threads when large.
inline void copy_bytes(void* dst, const void* src, int64_t n) {
  if (n <= 0) return;
  char* d = static_cast<char*>(dst);
  const char* s = static_cast<const char*>(src);
  parallel_for(n, kCopyGrainBytes, [&](int64_t b, int64_t e) {
    std::memcpy(d + b, s + b, static_cast<size_t>(e - b));
  });
}

// Copy of a whole tensor into another with the same bytes (reshape-like ops); tolerates the
// same buffer and overlapping buffers.
inline void copy_all(void* dst, const void* src, int64_t n) {
  if (n <= 0 || dst == src) return;
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  if (s < d + n && d < s + n) {
    std::memmove(d, s, static_cast<size_t>(n));
    return;
  }
  copy_bytes(d, s, n);
}

// Calls f(W{}) with W the unsigned integer type of `elem` bytes (1, 2, 4 or 8).
template <class F>
void with_word(int64_t elem, F&& f) {
  switch (elem) {
    case 1:
      f(uint8_t{});
      break;
    case 2:
      f(uint16_t{});
      break;
    case 4:
      f(uint32_t{});
      break;
    default:
      f(uint64_t{});
      break;
  }
}

// Row-major element strides of a shape.
inline void strides_of(const Dims& d, int64_t* s) {
  int64_t acc = 1;
  for (int i = d.rank - 1; i >= 0; --i) {
    s[i] = acc;
    acc *= d[i];
  }
}

inline int64_t product(const Dims& d, int begin, int end) {
  int64_t p = 1;
  for (int i = begin; i < end; ++i) p *= d[i];
  return p;
}

// Registration of each op of the family, one per file; register_movement_kernels calls them.
xhal_status_t register_concat_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_split_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_slice_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_gather_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_movement_view_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_expand_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_tile_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_shape_kernels(const xhal_host_api_t* h, xhal_registry_t r);
xhal_status_t register_range_kernels(const xhal_host_api_t* h, xhal_registry_t r);

// Registers KERNEL<DT> for every dtype the movement specs admit, in spec order, through
// REG(fn, dtype), a callable returning xhal_status_t (usually a lambda around the generated
// xhal_register_<op>_v1). Returns from the enclosing function on failure.
#define XHAL_CPU_REGISTER_MOVEMENT_DTYPES(REG, KERNEL)                   \
  do {                                                                   \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_FLOAT32>, XHAL_DTYPE_FLOAT32));   \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_FLOAT64>, XHAL_DTYPE_FLOAT64));   \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_FLOAT16>, XHAL_DTYPE_FLOAT16));   \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_BFLOAT16>, XHAL_DTYPE_BFLOAT16)); \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_INT32>, XHAL_DTYPE_INT32));       \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_INT64>, XHAL_DTYPE_INT64));       \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_BOOL>, XHAL_DTYPE_BOOL));         \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_INT8>, XHAL_DTYPE_INT8));         \
    XHAL_CPU_TRY(REG(KERNEL<XHAL_DTYPE_UINT8>, XHAL_DTYPE_UINT8));       \
  } while (0)

}  // namespace xhal_cpu
