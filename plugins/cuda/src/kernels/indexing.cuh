// Strided indexing on the device: a linear index over a shape turned into element offsets of
// up to N operands, each with its own strides (0 along broadcast dimensions). Built on the
// host by make_offsets(), which first merges dimensions that are contiguous for every operand
// so that most real calls run with rank 1 or 2.
#pragma once

#include <cstdint>

#include "support.h"

namespace xhal_cuda {

template <int N>
struct Offsets {
  int rank;
  int64_t sizes[kMaxDims];             // innermost last
  int64_t strides[N][kMaxDims];        // elements

  __device__ __forceinline__ void at(int64_t linear, int64_t (&off)[N]) const {
#pragma unroll
    for (int a = 0; a < N; ++a) off[a] = 0;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
#pragma unroll
      for (int a = 0; a < N; ++a) off[a] += i * strides[a][d];
    }
  }
};

// Offsets for `shape` and the operands' strides (strides[a] has shape.rank entries). Fails
// (UNSUPPORTED, naming the op) when more than kMaxDims dimensions remain after merging.
template <int N>
xhal_status_t make_offsets(const Call& call, const Shape& shape, const int64_t* const* strides,
                           Offsets<N>* out) {
  Shape merged;
  int64_t merged_strides[N][kMaxRank];
  int rank = 0;
  for (int d = 0; d < shape.rank; ++d) {
    if (shape[d] == 1) continue;  // contributes nothing to any offset
    bool mergeable = rank > 0;
    for (int a = 0; a < N && mergeable; ++a)
      mergeable = merged_strides[a][rank - 1] == strides[a][d] * shape[d];
    if (mergeable) {
      merged[rank - 1] *= shape[d];
      for (int a = 0; a < N; ++a) merged_strides[a][rank - 1] = strides[a][d];
    } else {
      merged.d[rank] = shape[d];
      for (int a = 0; a < N; ++a) merged_strides[a][rank] = strides[a][d];
      ++rank;
    }
  }
  if (rank > kMaxDims)
    return fail(XHAL_ERROR_UNSUPPORTED,
                "%s: %s needs %d strided dimensions after merging; the CUDA kernels index "
                "at most %d", call.op, to_string(shape).c_str(), rank, kMaxDims);
  out->rank = rank;
  for (int d = 0; d < rank; ++d) {
    out->sizes[d] = merged[d];
    for (int a = 0; a < N; ++a) out->strides[a][d] = merged_strides[a][d];
  }
  return XHAL_OK;
}

}  // namespace xhal_cuda
