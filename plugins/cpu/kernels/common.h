// Helpers shared by the kernel files.
#pragma once

#include <cstring>

#include <xhal/kit/read_attrs.h>
#include <xhal/xhal_ops.h>

#include "../dtype.h"
#include "../host.h"
#include "../tensor.h"
#include "../thread_pool.h"

namespace xhal_cpu {

// Hot loops are compiled for AVX2 as well as baseline x86-64 and picked at load time, since the
// plugin is built for any x86-64 CPU (no -march=native).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define XHAL_CPU_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define XHAL_CPU_SIMD_CLONES
#endif

// Attribute structs of any header version: the plugin kit's (spec defaults, then the caller's
// fields).
using xhal::kit::read_attrs;

// Normalises an axis in [-rank, rank) to [0, rank); -1 when out of range.
inline int normalize_axis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) return -1;
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

}  // namespace xhal_cpu
