// xhal plugin kit: the spatial geometry of conv, conv_transpose and the pools, as ONNX's shape
// inference defines it (convPoolShapeInference and ConvTranspose's output_shape/output_padding
// rules; python/xhal/shape_rules/nn_conv.py computes the same shapes). Kernels are the plugin's:
// this header only validates the attributes and yields pads and output sizes.
//
// Header-only C++17 source API, not part of the C ABI (docs/decisions.md, D22). Functions
// return XHAL_OK or an error status with a message (without the op name) in *error.
#pragma once

#include <xhal/xhal_abi.h>
#include <xhal/xhal_ops.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

// The geometry is passed to device kernels by value; its size helpers run there too.
#if defined(__CUDACC__)
#define XHAL_KIT_HOST_DEVICE __host__ __device__
#else
#define XHAL_KIT_HOST_DEVICE
#endif

namespace xhal {
namespace kit {

// Spatial geometry, always 3-D: 1-D and 2-D ops get leading unit axes (k = s = d = 1, no pads),
// so that one kernel loop nest serves every spatial rank.
struct ConvGeometry {
  int n = 0;  // the op's spatial rank (1..3)
  int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
  int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0}, out[3] = {1, 1, 1};
  XHAL_KIT_HOST_DEVICE int64_t in_size() const { return in[0] * in[1] * in[2]; }
  XHAL_KIT_HOST_DEVICE int64_t out_size() const { return out[0] * out[1] * out[2]; }
  XHAL_KIT_HOST_DEVICE int64_t k_size() const { return k[0] * k[1] * k[2]; }
  // The op's output shape: [batch, channels, output sizes of its n spatial axes].
  std::vector<int64_t> output_shape(int64_t batch, int64_t channels) const {
    std::vector<int64_t> y = {batch, channels};
    y.insert(y.end(), out + 3 - n, out + 3);
    return y;
  }
};

// A kit shape in the plugin's own shape type (anything with push_back(int64_t)).
template <class Shape>
Shape to_shape(const std::vector<int64_t>& dims) {
  Shape s;
  for (int64_t v : dims) s.push_back(v);
  return s;
}

// Floor division (the shape rules' Python `//`), b > 0.
inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// "[2, 3]" of a list (attribute or shape); NULL or n <= 0 gives "[]".
inline std::string ints_to_string(const int64_t* v, int64_t n) {
  std::string s = "[";
  for (int64_t i = 0; v != nullptr && i < n; ++i) {
    if (i) s += ", ";
    s += std::to_string(v[i]);
  }
  return s + "]";
}

// "depth" / "height" / "width" of spatial axis i of an n-D (1..3) op.
inline const char* spatial_axis_name(int i, int n) {
  static const char* const kNames[] = {"depth", "height", "width"};
  return kNames[3 - n + i];
}

namespace detail {

inline xhal_status_t invalid(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return XHAL_ERROR_INVALID_ARGUMENT;
}

inline std::string ll(int64_t v) { return std::to_string(static_cast<long long>(v)); }

enum class AutoPad { kNotSet, kValid, kSameUpper, kSameLower, kBad };

inline AutoPad parse_auto_pad(const char* auto_pad) {
  const char* ap = auto_pad != nullptr ? auto_pad : "NOTSET";
  if (std::strcmp(ap, "NOTSET") == 0) return AutoPad::kNotSet;
  if (std::strcmp(ap, "VALID") == 0) return AutoPad::kValid;
  if (std::strcmp(ap, "SAME_UPPER") == 0) return AutoPad::kSameUpper;
  if (std::strcmp(ap, "SAME_LOWER") == 0) return AutoPad::kSameLower;
  return AutoPad::kBad;
}

inline std::string bad_auto_pad(const char* auto_pad) {
  return "auto_pad '" + std::string(auto_pad) +
         "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID";
}

}  // namespace detail

// Fills g->n, in, k, s, d from X [N, C, spatial...] (x_rank 3..5), the kernel's spatial sizes
// and the strides / dilations attributes (empty lists mean 1). Pads and outputs come from
// conv_pool_pads() or conv_transpose_pads().
inline xhal_status_t conv_geometry_basics(const int64_t* x, int x_rank, const int64_t* kernel,
                                          const int64_t* strides, int64_t strides_count,
                                          const int64_t* dilations, int64_t dilations_count,
                                          ConvGeometry* g, std::string* error) {
  const int n = x_rank - 2;
  const auto xs = [&] { return ints_to_string(x, x_rank); };  // for the messages only
  if (n < 1 || n > 3) {
    if (error != nullptr)
      *error = "X " + xs() + " has " + std::to_string(n) + " spatial axes; 1 to 3 are supported";
    return XHAL_ERROR_UNSUPPORTED;
  }
  if (strides_count != 0 && strides_count != n)
    return detail::invalid(error, "strides " + ints_to_string(strides, strides_count) + " has " +
                                      detail::ll(strides_count) + " values; X " + xs() + " has " +
                                      std::to_string(n) + " spatial axes");
  if (dilations_count != 0 && dilations_count != n)
    return detail::invalid(error, "dilations " + ints_to_string(dilations, dilations_count) +
                                      " has " + detail::ll(dilations_count) + " values; X " + xs() +
                                      " has " + std::to_string(n) + " spatial axes");
  *g = ConvGeometry();
  g->n = n;
  for (int i = 0; i < n; ++i) {
    const int a = 3 - n + i;
    g->in[a] = x[2 + i];
    g->k[a] = kernel[i];
    g->s[a] = strides_count ? strides[i] : 1;
    g->d[a] = dilations_count ? dilations[i] : 1;
    if (g->k[a] < 1 || g->s[a] < 1 || g->d[a] < 1)
      return detail::invalid(error, "kernel " + detail::ll(g->k[a]) + ", stride " +
                                        detail::ll(g->s[a]) + " and dilation " +
                                        detail::ll(g->d[a]) + " of " + spatial_axis_name(i, n) +
                                        " must all be >= 1");
  }
  return XHAL_OK;
}

// Conv / pool pads (from auto_pad or `pads`) and output sizes (with ceil_mode), per ONNX
// convPoolShapeInference; g holds conv_geometry_basics()'s result.
inline xhal_status_t conv_pool_pads(const char* auto_pad, const int64_t* pads, int64_t pads_count,
                                    int64_t ceil_mode, ConvGeometry* g, std::string* error) {
  using detail::AutoPad;
  const int n = g->n;
  const AutoPad ap = detail::parse_auto_pad(auto_pad);
  if (ap == AutoPad::kBad) return detail::invalid(error, detail::bad_auto_pad(auto_pad));
  const bool notset = ap == AutoPad::kNotSet;
  if (notset && pads_count != 0 && pads_count != 2 * n)
    return detail::invalid(error, "pads " + ints_to_string(pads, pads_count) + " has " +
                                      detail::ll(pads_count) + " values; " + std::to_string(n) +
                                      " spatial axes need " + std::to_string(2 * n));
  for (int i = 0; i < n; ++i) {
    const int a = 3 - n + i;
    const int64_t ek = (g->k[a] - 1) * g->d[a] + 1;  // the dilated kernel's extent
    int64_t pb = 0, pe = 0;
    if (notset && pads_count) {
      pb = pads[i];
      pe = pads[n + i];
      if (pb < 0 || pe < 0)
        return detail::invalid(
            error, "pads " + ints_to_string(pads, pads_count) + " must not be negative");
    } else if (ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower) {
      // SAME: output = ceil(in / stride); the odd pad goes at the end (UPPER) or begin (LOWER).
      const int64_t r = g->in[a] % g->s[a];
      const int64_t total = std::max<int64_t>(ek - (r == 0 ? g->s[a] : r), 0);
      const int64_t small = total / 2, big = total - small;
      pb = ap == AutoPad::kSameUpper ? small : big;
      pe = ap == AutoPad::kSameUpper ? big : small;
    }
    const int64_t padded = g->in[a] + pb + pe;
    if (padded < ek)
      return detail::invalid(error, "kernel " + detail::ll(g->k[a]) + " with dilation " +
                                        detail::ll(g->d[a]) + " (extent " + detail::ll(ek) +
                                        ") does not fit input " + spatial_axis_name(i, n) + " " +
                                        detail::ll(g->in[a]) + " padded to " + detail::ll(padded));
    int64_t o = (padded - ek + (ceil_mode ? g->s[a] - 1 : 0)) / g->s[a] + 1;
    // ceil_mode: a last window that would start in the end padding is dropped.
    if (ceil_mode && (o - 1) * g->s[a] >= g->in[a] + pb) --o;
    g->pb[a] = pb;
    g->pe[a] = pe;
    g->out[a] = o;
  }
  return XHAL_OK;
}

// kernel_shape, when given, must equal W's spatial sizes (W is [M, C/group, k...]).
inline xhal_status_t check_kernel_shape(const int64_t* kernel_shape, int64_t count,
                                        const int64_t* w, int w_rank, std::string* error) {
  if (count == 0) return XHAL_OK;
  bool same = count == w_rank - 2 && kernel_shape != nullptr;
  for (int i = 0; same && i < w_rank - 2; ++i) same = kernel_shape[i] == w[2 + i];
  if (same) return XHAL_OK;
  return detail::invalid(error, "kernel_shape " + ints_to_string(kernel_shape, count) +
                                    " differs from W " + ints_to_string(w, w_rank));
}

namespace detail {

// X [N, C, spatial...] and W of the same rank; B, when given (b != NULL), is [M].
inline xhal_status_t check_conv_operands(const char* w_layout, const int64_t* x, int x_rank,
                                         const int64_t* w, int w_rank, const int64_t* b,
                                         int b_rank, int64_t m, int64_t group, bool group_ok,
                                         std::string* error) {
  // Shapes as text for the messages, only built when one is.
  const auto xs = [&] { return ints_to_string(x, x_rank); };
  const auto ws = [&] { return ints_to_string(w, w_rank); };
  if (!group_ok)
    return invalid(error, "group " + ll(group) + " must divide C and " + w_layout + " (X " + xs() +
                              ", W " + ws() + ")");
  if (b != nullptr && (b_rank != 1 || b[0] != m))
    return invalid(error, "B " + ints_to_string(b, b_rank) + " must be [" + ll(m) + "]");
  return XHAL_OK;
}

inline xhal_status_t check_ranks(const int64_t* x, int x_rank, const int64_t* w, int w_rank,
                                 std::string* error) {
  if (x_rank >= 3 && w_rank == x_rank) return XHAL_OK;
  return invalid(error, "X " + ints_to_string(x, x_rank) +
                            " must be [N, C, spatial...] and W " + ints_to_string(w, w_rank) +
                            " of the same rank");
}

}  // namespace detail

// Conv: X [N, C, spatial...], W [M, C/group, k...], optional B [M] (b NULL: none) and the
// complete attribute struct (the kernel's, read with its defaults). Fills g and *y, Y's shape.
inline xhal_status_t conv_geometry(const int64_t* x, int x_rank, const int64_t* w, int w_rank,
                                   const int64_t* b, int b_rank, const xhal_conv_v1_attrs_t& at,
                                   ConvGeometry* g, std::vector<int64_t>* y, std::string* error) {
  xhal_status_t st = detail::check_ranks(x, x_rank, w, w_rank, error);
  if (st != XHAL_OK) return st;
  const int64_t c = x[1], m = w[0], group = at.group;
  const bool group_ok = group >= 1 && c % group == 0 && m % group == 0 && w[1] * group == c;
  st = detail::check_conv_operands("M, and W[1] * group must equal C", x, x_rank, w, w_rank, b,
                                   b_rank, m, group, group_ok, error);
  if (st == XHAL_OK)
    st = check_kernel_shape(at.kernel_shape, at.kernel_shape_count, w, w_rank, error);
  if (st == XHAL_OK)
    st = conv_geometry_basics(x, x_rank, w + 2, at.strides, at.strides_count, at.dilations,
                              at.dilations_count, g, error);
  if (st == XHAL_OK) st = conv_pool_pads(at.auto_pad, at.pads, at.pads_count, 0, g, error);
  if (st == XHAL_OK) *y = g->output_shape(x[0], m);
  return st;
}

// Pool geometry (max_pool, average_pool): kernel_shape is required, one value per spatial axis;
// ceil_mode is 0 or 1; each pad must be smaller than the kernel extent (ONNX's rule that no
// window lies entirely in padding).
inline xhal_status_t pool_geometry(const int64_t* x, int x_rank, const int64_t* kernel,
                                   int64_t kernel_count, const int64_t* strides,
                                   int64_t strides_count, const int64_t* dilations,
                                   int64_t dilations_count, const char* auto_pad,
                                   const int64_t* pads, int64_t pads_count, int64_t ceil_mode,
                                   ConvGeometry* g, std::vector<int64_t>* y,
                                   std::string* error) {
  const auto xs = [&] { return ints_to_string(x, x_rank); };  // for the messages only
  if (x_rank < 3) return detail::invalid(error, "X " + xs() + " must be [N, C, spatial...]");
  const int n = x_rank - 2;
  if (kernel_count != n || kernel == nullptr)
    return detail::invalid(error, "kernel_shape " + ints_to_string(kernel, kernel_count) +
                                      " must have one value per spatial axis of X " + xs());
  if (ceil_mode != 0 && ceil_mode != 1)
    return detail::invalid(error, "ceil_mode " + detail::ll(ceil_mode) + " must be 0 or 1");
  xhal_status_t st = conv_geometry_basics(x, x_rank, kernel, strides, strides_count, dilations,
                                          dilations_count, g, error);
  if (st == XHAL_OK) st = conv_pool_pads(auto_pad, pads, pads_count, ceil_mode, g, error);
  if (st != XHAL_OK) return st;
  for (int i = 0; i < n; ++i) {
    const int a = 3 - n + i;
    const int64_t ek = (g->k[a] - 1) * g->d[a] + 1;
    if (g->pb[a] >= ek || g->pe[a] >= ek)
      return detail::invalid(error, "pads " + detail::ll(g->pb[a]) + ", " + detail::ll(g->pe[a]) +
                                        " of spatial axis " + std::to_string(i) +
                                        " must be smaller than the kernel extent " +
                                        detail::ll(ek));
  }
  *y = g->output_shape(x[0], x[1]);
  return XHAL_OK;
}

// ConvTranspose pads and output sizes; g holds conv_geometry_basics()'s result for the
// conv_transpose input X (x for messages). output_shape (spatial, or with N and C) wins over
// pads and gives them, as does SAME_*: total padding = stride * (in - 1) + output_padding +
// extent - output, split with floor(total / 2) at the begin for SAME_UPPER (at the end for
// SAME_LOWER and output_shape); otherwise output = that natural size - pads.
inline xhal_status_t conv_transpose_pads(const int64_t* x, int x_rank, const char* auto_pad,
                                         const int64_t* pads, int64_t pads_count,
                                         const int64_t* output_padding,
                                         int64_t output_padding_count,
                                         const int64_t* output_shape, int64_t output_shape_count,
                                         ConvGeometry* g, std::string* error) {
  using detail::AutoPad;
  const int n = g->n;
  const AutoPad ap = detail::parse_auto_pad(auto_pad);
  if (ap == AutoPad::kBad) return detail::invalid(error, detail::bad_auto_pad(auto_pad));
  const bool notset = ap == AutoPad::kNotSet;
  const bool same = ap == AutoPad::kSameUpper || ap == AutoPad::kSameLower;
  const int64_t* shape = output_shape;
  int64_t shape_count = output_shape_count;
  if (shape_count == n + 2) {  // the full output shape [N, M, spatial...]
    shape += 2;
    shape_count = n;
  }
  if ((shape_count != 0 && shape_count != n) ||
      (output_padding_count != 0 && output_padding_count != n) ||
      (notset && pads_count != 0 && pads_count != 2 * n))
    return detail::invalid(
        error, "output_shape " + ints_to_string(output_shape, output_shape_count) +
                   ", output_padding " + ints_to_string(output_padding, output_padding_count) +
                   " or pads " + ints_to_string(pads, pads_count) + " do not match the " +
                   std::to_string(n) + " spatial axes of X " + ints_to_string(x, x_rank));
  for (int i = 0; i < n; ++i) {
    const int a = 3 - n + i;
    const int64_t op = output_padding_count ? output_padding[i] : 0;
    if (op < 0 || op >= std::max(g->s[a], g->d[a]))
      return detail::invalid(error, "output_padding " + detail::ll(op) +
                                        " must be in [0, max(stride " + detail::ll(g->s[a]) +
                                        ", dilation " + detail::ll(g->d[a]) + "))");
    const int64_t ek = (g->k[a] - 1) * g->d[a] + 1;
    const int64_t natural = g->s[a] * (g->in[a] - 1) + op + ek;
    int64_t o;
    if (shape_count || same) {
      o = shape_count ? shape[i] : g->in[a] * g->s[a];
      const int64_t total = natural - o;
      const int64_t half = floor_div(total, 2);
      g->pb[a] = ap == AutoPad::kSameUpper ? half : total - half;
      g->pe[a] = total - g->pb[a];
    } else {
      g->pb[a] = notset && pads_count ? pads[i] : 0;
      g->pe[a] = notset && pads_count ? pads[n + i] : 0;
      if (g->pb[a] < 0 || g->pe[a] < 0)
        return detail::invalid(
            error, "pads " + ints_to_string(pads, pads_count) + " must not be negative");
      o = natural - g->pb[a] - g->pe[a];
    }
    if (o < 0)
      return detail::invalid(error, "output size " + detail::ll(o) + " of spatial axis " +
                                        std::to_string(i) + " is negative");
    g->out[a] = o;
  }
  return XHAL_OK;
}

// ConvTranspose: X [N, C, spatial...], W [C, M/group, k...], optional B [M] (b NULL: none)
// and the complete attribute struct. Fills g (g->in is X's, g->out Y's) and *y, Y's shape.
inline xhal_status_t conv_transpose_geometry(const int64_t* x, int x_rank, const int64_t* w,
                                             int w_rank, const int64_t* b, int b_rank,
                                             const xhal_conv_transpose_v1_attrs_t& at,
                                             ConvGeometry* g, std::vector<int64_t>* y,
                                             std::string* error) {
  xhal_status_t st = detail::check_ranks(x, x_rank, w, w_rank, error);
  if (st != XHAL_OK) return st;
  const int64_t c = x[1], group = at.group, m = w[1] * group;
  const bool group_ok = group >= 1 && c % group == 0 && w[0] == c;
  st = detail::check_conv_operands("W[0] must equal C", x, x_rank, w, w_rank, b, b_rank, m, group,
                                   group_ok, error);
  if (st == XHAL_OK)
    st = check_kernel_shape(at.kernel_shape, at.kernel_shape_count, w, w_rank, error);
  if (st == XHAL_OK)
    st = conv_geometry_basics(x, x_rank, w + 2, at.strides, at.strides_count, at.dilations,
                              at.dilations_count, g, error);
  if (st == XHAL_OK)
    st = conv_transpose_pads(x, x_rank, at.auto_pad, at.pads, at.pads_count, at.output_padding,
                             at.output_padding_count, at.output_shape, at.output_shape_count, g,
                             error);
  if (st == XHAL_OK) *y = g->output_shape(x[0], m);
  return st;
}

}  // namespace kit
}  // namespace xhal
