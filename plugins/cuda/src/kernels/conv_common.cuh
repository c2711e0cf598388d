// Spatial geometry shared by the CUDA pool, conv and conv_transpose kernels: the ONNX
// convPoolShapeInference rules exactly as the CPU plugin's conv_common.cpp applies them (pads
// from auto_pad or `pads`, output sizes with ceil_mode), always held as 3-D (1-D and 2-D ops get
// leading unit axes with kernel = stride = dilation = 1 and no pads).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "support.h"

namespace xhal_cuda {
namespace convg {

struct Geom {
  int n = 0;  // the op's spatial rank (1..3)
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0}, out[3] = {1, 1, 1};
  __host__ __device__ int64_t in_size() const { return in[0] * in[1] * in[2]; }
  __host__ __device__ int64_t out_size() const { return out[0] * out[1] * out[2]; }
  __host__ __device__ int64_t k_size() const { return k[0] * k[1] * k[2]; }
};

inline const char* axis_name(int i, int n) {
  static const char* const k1[] = {"width"};
  static const char* const k2[] = {"height", "width"};
  static const char* const k3[] = {"depth", "height", "width"};
  if (n == 1) return k1[i];
  if (n == 2) return k2[i];
  return k3[i];
}

inline std::string ints_to_string(const int64_t* v, int64_t n) {
  std::string s = "[";
  for (int64_t i = 0; i < n; ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// Floor division (Python `//`), b > 0.
inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// g.in, g.k, g.s, g.d from X's spatial shape, the kernel and the attributes (empty lists: 1).
inline xhal_status_t geom_basics(const char* op, const Shape& x, const int64_t* kernel, int n,
                                 const int64_t* strides, int64_t strides_count,
                                 const int64_t* dilations, int64_t dilations_count, Geom* g) {
  if (n < 1 || n > 3)
    return fail(XHAL_ERROR_UNSUPPORTED,
                "%s: X %s has %d spatial axes; the CUDA plugin handles 1 to 3", op,
                to_string(x).c_str(), n);
  if (strides_count != 0 && strides_count != n)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: strides %s has %lld values; X %s has %d spatial axes", op,
                ints_to_string(strides, strides_count).c_str(),
                static_cast<long long>(strides_count), to_string(x).c_str(), n);
  if (dilations_count != 0 && dilations_count != n)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: dilations %s has %lld values; X %s has %d spatial axes", op,
                ints_to_string(dilations, dilations_count).c_str(),
                static_cast<long long>(dilations_count), to_string(x).c_str(), n);
  g->n = n;
  const int off = 3 - n;
  for (int i = 0; i < n; ++i) {
    g->in[off + i] = x[2 + i];
    g->k[off + i] = kernel[i];
    g->s[off + i] = strides_count ? strides[i] : 1;
    g->d[off + i] = dilations_count ? dilations[i] : 1;
    if (g->k[off + i] < 1 || g->s[off + i] < 1 || g->d[off + i] < 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: kernel %lld, stride %lld and dilation %lld of %s must all be >= 1", op,
                  static_cast<long long>(g->k[off + i]), static_cast<long long>(g->s[off + i]),
                  static_cast<long long>(g->d[off + i]), axis_name(i, n));
  }
  return XHAL_OK;
}

// Conv / pool pads and output sizes (ONNX convPoolShapeInference).
inline xhal_status_t conv_pool_geom(const char* op, const char* auto_pad, const int64_t* pads,
                                    int64_t pads_count, int64_t ceil_mode, Geom* g) {
  const int n = g->n, off = 3 - n;
  const char* ap = auto_pad != nullptr ? auto_pad : "NOTSET";
  const bool same_upper = std::strcmp(ap, "SAME_UPPER") == 0;
  const bool same_lower = std::strcmp(ap, "SAME_LOWER") == 0;
  const bool notset = std::strcmp(ap, "NOTSET") == 0;
  if (!same_upper && !same_lower && !notset && std::strcmp(ap, "VALID") != 0)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", op, ap);
  if (notset && pads_count != 0 && pads_count != 2 * n)
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "%s: pads %s has %lld values; %d spatial axes need %d", op,
                ints_to_string(pads, pads_count).c_str(), static_cast<long long>(pads_count), n,
                2 * n);
  for (int i = 0; i < n; ++i) {
    const int a = off + i;
    const int64_t ek = (g->k[a] - 1) * g->d[a] + 1;
    int64_t pb = 0, pe = 0;
    if (notset && pads_count) {
      pb = pads[i];
      pe = pads[n + i];
      if (pb < 0 || pe < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: pads %s must not be negative", op,
                    ints_to_string(pads, pads_count).c_str());
    } else if (same_upper || same_lower) {
      const int64_t r = g->in[a] % g->s[a];
      int64_t total = ek - (r == 0 ? g->s[a] : r);
      if (total < 0) total = 0;
      const int64_t small = total / 2, big = total - small;
      pb = same_upper ? small : big;
      pe = same_upper ? big : small;
    }
    const int64_t padded = g->in[a] + pb + pe;
    if (padded < ek)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: kernel %lld with dilation %lld (extent %lld) does not fit input %s %lld "
                  "padded to %lld",
                  op, static_cast<long long>(g->k[a]), static_cast<long long>(g->d[a]),
                  static_cast<long long>(ek), axis_name(i, n), static_cast<long long>(g->in[a]),
                  static_cast<long long>(padded));
    int64_t o = (padded - ek + (ceil_mode ? g->s[a] - 1 : 0)) / g->s[a] + 1;
    if (ceil_mode && (o - 1) * g->s[a] >= g->in[a] + pb) --o;
    g->pb[a] = pb;
    g->pe[a] = pe;
    g->out[a] = o;
  }
  return XHAL_OK;
}

}  // namespace convg
}  // namespace xhal_cuda
