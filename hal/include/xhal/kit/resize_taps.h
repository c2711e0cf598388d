// xhal plugin kit: ONNX Resize (opset 19) host-side math: the attribute strings, the output shape
// from scales or sizes, and per resized axis the mapping of output coordinates to input
// coordinates (coordinate_transformation_mode, in float64 as the spec's formulas) turned into
// 1, 2 or 4 taps (input indices clamped to the edge) with their weights, for nearest (per
// nearest_mode), linear and cubic (cubic_coeff_a). The interpolation kernels are the plugin's:
// out[o, j, i] = sum_q w[j, q] * in[o, idx[j, q], i], one separable pass per axis.
// Not covered (refused): tf_crop_and_resize, antialias, exclude_outside, keep_aspect_ratio_policy
// other than stretch.
//
// Header-only C++17 source API, not part of the C ABI (docs/decisions.md, D22). Functions
// return XHAL_OK or an error status with a message (without the op name) in *error.
#pragma once

#include <xhal/xhal_abi.h>
#include <xhal/xhal_ops.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace xhal {
namespace kit {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class ResizeCoordinate {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfHalfPixelForNn
};
enum class ResizeNearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeOptions {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordinate coordinate = ResizeCoordinate::kHalfPixel;
  ResizeNearest nearest = ResizeNearest::kRoundPreferFloor;
  double cubic_a = -0.75;
};

namespace detail {

template <class E>
struct ResizeName {
  const char* name;
  E value;
};

// The value named `s` (NULL: the first entry, ONNX's default); false if none is.
template <class E, size_t N>
bool resize_lookup(const char* s, const ResizeName<E> (&table)[N], E* out) {
  for (const ResizeName<E>& e : table)
    if (s == nullptr || std::strcmp(s, e.name) == 0) {
      *out = e.value;
      return true;
    }
  return false;
}

}  // namespace detail

// The attributes as options; `at` is the complete attribute struct (NULL strings are ONNX's
// defaults). An unknown mode or nearest_mode is INVALID_ARGUMENT; an unknown
// coordinate_transformation_mode (tf_crop_and_resize) and the other unsupported features are
// UNSUPPORTED.
inline xhal_status_t parse_resize_options(const xhal_resize_v1_attrs_t& at, ResizeOptions* o,
                                          std::string* error) {
  using detail::ResizeName;
  static const ResizeName<ResizeMode> kModes[] = {{"nearest", ResizeMode::kNearest},
                                                  {"linear", ResizeMode::kLinear},
                                                  {"cubic", ResizeMode::kCubic}};
  static const ResizeName<ResizeCoordinate> kCoordinates[] = {
      {"half_pixel", ResizeCoordinate::kHalfPixel},
      {"half_pixel_symmetric", ResizeCoordinate::kHalfPixelSymmetric},
      {"pytorch_half_pixel", ResizeCoordinate::kPytorchHalfPixel},
      {"align_corners", ResizeCoordinate::kAlignCorners},
      {"asymmetric", ResizeCoordinate::kAsymmetric},
      {"tf_half_pixel_for_nn", ResizeCoordinate::kTfHalfPixelForNn}};
  static const ResizeName<ResizeNearest> kNearest[] = {
      {"round_prefer_floor", ResizeNearest::kRoundPreferFloor},
      {"round_prefer_ceil", ResizeNearest::kRoundPreferCeil},
      {"floor", ResizeNearest::kFloor},
      {"ceil", ResizeNearest::kCeil}};
  if (!detail::resize_lookup(at.mode, kModes, &o->mode)) {
    *error = "mode '" + std::string(at.mode) + "' is not supported";
    return XHAL_ERROR_INVALID_ARGUMENT;
  }
  if (!detail::resize_lookup(at.coordinate_transformation_mode, kCoordinates, &o->coordinate)) {
    *error = "coordinate_transformation_mode '" + std::string(at.coordinate_transformation_mode) +
             "' is not supported";
    return XHAL_ERROR_UNSUPPORTED;
  }
  if (!detail::resize_lookup(at.nearest_mode, kNearest, &o->nearest)) {
    *error = "nearest_mode '" + std::string(at.nearest_mode) + "' is not supported";
    return XHAL_ERROR_INVALID_ARGUMENT;
  }
  const char* policy = at.keep_aspect_ratio_policy;
  if (at.antialias != 0 || at.exclude_outside != 0 ||
      (policy != nullptr && std::strcmp(policy, "stretch") != 0)) {
    *error =
        "only antialias 0, exclude_outside 0 and keep_aspect_ratio_policy stretch are supported";
    return XHAL_ERROR_UNSUPPORTED;
  }
  o->cubic_a = static_cast<double>(at.cubic_coeff_a);
  return XHAL_OK;
}

// The resized axes (in the order listed), their scales and the output shape.
struct ResizeShape {
  std::vector<int> axes;
  std::vector<double> scales;  // per listed axis: the given scale, or size / input size
  std::vector<int64_t> out;    // the output's shape
};

// Output shape of X (x, rank) resized along `axes` (none: every axis) by `scales` or, when scales
// is NULL, to `sizes`; count values either way. Sizes give the scale size / input size; scales
// give the size floor(input * scale).
inline xhal_status_t resize_output_shape(const int64_t* x, int rank, const int64_t* axes,
                                         int64_t axes_count, const double* scales,
                                         const int64_t* sizes, int64_t count, ResizeShape* r,
                                         std::string* error) {
  auto shape_str = [&] {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(x[i]);
    return s + "]";
  };
  *r = ResizeShape();
  if (axes_count > 0) {
    std::vector<char> seen(static_cast<size_t>(rank), 0);
    for (int64_t i = 0; i < axes_count; ++i) {
      const int64_t v = axes[i];
      const int a = v < -rank || v >= rank ? -1 : static_cast<int>(v < 0 ? v + rank : v);
      if (a < 0 || seen[static_cast<size_t>(a)]) {
        *error = "axes value " + std::to_string(v) + " is out of range or repeated for X " +
                 shape_str();
        return XHAL_ERROR_INVALID_ARGUMENT;
      }
      seen[static_cast<size_t>(a)] = 1;
      r->axes.push_back(a);
    }
  } else {
    for (int a = 0; a < rank; ++a) r->axes.push_back(a);
  }
  if (count != static_cast<int64_t>(r->axes.size())) {
    *error = std::string(scales ? "scales" : "sizes") + " has " + std::to_string(count) +
             " values; " + std::to_string(r->axes.size()) + " expected";
    return XHAL_ERROR_INVALID_ARGUMENT;
  }
  r->out.assign(x, x + rank);
  for (size_t i = 0; i < r->axes.size(); ++i) {
    const int a = r->axes[i];
    const int64_t n_in = x[a];
    int64_t& n_out = r->out[static_cast<size_t>(a)];
    double scale;
    if (scales != nullptr) {
      scale = scales[i];
      if (!(scale > 0) || !std::isfinite(scale)) {
        *error = "scales must be positive and finite";
        return XHAL_ERROR_INVALID_ARGUMENT;
      }
      n_out = static_cast<int64_t>(std::floor(static_cast<double>(n_in) * scale));
    } else {
      n_out = sizes[i];
      if (n_out < 0) {
        *error = "sizes must be >= 0";
        return XHAL_ERROR_INVALID_ARGUMENT;
      }
      scale = n_in ? static_cast<double>(n_out) / static_cast<double>(n_in) : 1.0;
    }
    if (n_in == 0 && n_out > 0) {
      *error = "cannot resize the empty axis " + std::to_string(a) + " of X " + shape_str();
      return XHAL_ERROR_INVALID_ARGUMENT;
    }
    r->scales.push_back(scale);
  }
  return XHAL_OK;
}

// The input coordinate of output coordinate x (coordinate_transformation_mode).
inline double resize_original_coordinate(double x, ResizeCoordinate c, double scale,
                                         int64_t n_in, int64_t n_out) {
  switch (c) {
    case ResizeCoordinate::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case ResizeCoordinate::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(n_out) / (scale * static_cast<double>(n_in));
      const double center = static_cast<double>(n_in) / 2;
      const double offset = center * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case ResizeCoordinate::kPytorchHalfPixel:
      return n_out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case ResizeCoordinate::kAlignCorners:  // the unrounded output length, as ONNX's reference
      return n_out == 1 ? 0.0
                        : x * static_cast<double>(n_in - 1) /
                              (scale * static_cast<double>(n_in) - 1);
    case ResizeCoordinate::kAsymmetric:
      return x / scale;
    case ResizeCoordinate::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
  }
  return 0.0;
}

// Keys' cubic convolution weights of the 4 taps around a point at fraction t (coefficient a).
inline void resize_cubic_weights(double t, double a, double* w) {
  const double s = 1 - t;
  w[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * s - (a + 3)) * s * s + 1;
  w[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

// Taps of one resized axis: idx and w hold n_out * k entries (k = 1, 2, 4 for nearest, linear,
// cubic). identity: every output coordinate falls exactly on its input element (a copy).
struct ResizeAxis {
  int axis = 0;
  int64_t n_in = 0, n_out = 0;
  int k = 1;
  bool identity = false;
  std::vector<int64_t> idx;
  std::vector<double> w;
};

inline ResizeAxis make_resize_axis(int axis, int64_t n_in, int64_t n_out, double scale,
                                   const ResizeOptions& o) {
  ResizeAxis ax;
  ax.axis = axis;
  ax.n_in = n_in;
  ax.n_out = n_out;
  ax.k = o.mode == ResizeMode::kNearest ? 1 : o.mode == ResizeMode::kLinear ? 2 : 4;
  ax.idx.resize(static_cast<size_t>(n_out * ax.k));
  ax.w.resize(ax.idx.size());
  ax.identity = n_in == n_out;
  const double hi = static_cast<double>(std::max<int64_t>(n_in - 1, 0));
  auto clamped = [hi](double v) { return static_cast<int64_t>(std::clamp(v, 0.0, hi)); };
  for (int64_t j = 0; j < n_out; ++j) {
    const double x = resize_original_coordinate(static_cast<double>(j), o.coordinate, scale, n_in,
                                                n_out);
    if (x != static_cast<double>(j)) ax.identity = false;
    const double f = std::floor(x);
    const double t = x - f;
    int64_t* id = &ax.idx[static_cast<size_t>(j * ax.k)];
    double* w = &ax.w[static_cast<size_t>(j * ax.k)];
    if (o.mode == ResizeMode::kNearest) {
      double r = f;
      switch (o.nearest) {
        case ResizeNearest::kRoundPreferFloor:
          r = t > 0.5 ? f + 1 : f;
          break;
        case ResizeNearest::kRoundPreferCeil:
          r = t >= 0.5 ? f + 1 : f;
          break;
        case ResizeNearest::kFloor:
          break;
        case ResizeNearest::kCeil:
          r = std::ceil(x);
          break;
      }
      id[0] = clamped(r);
      w[0] = 1;
    } else if (o.mode == ResizeMode::kLinear) {
      id[0] = clamped(f);
      id[1] = clamped(f + 1);
      w[0] = 1 - t;
      w[1] = t;
    } else {
      for (int q = 0; q < 4; ++q) id[q] = clamped(f - 1 + q);
      resize_cubic_weights(t, o.cubic_a, w);
    }
  }
  return ax;
}

// The passes to run: the taps of every resized axis that is not an identity, in the order the
// axes are listed (x: the input's shape; s: resize_output_shape()'s result).
inline std::vector<ResizeAxis> resize_passes(const int64_t* x, const ResizeShape& s,
                                             const ResizeOptions& o) {
  std::vector<ResizeAxis> passes;
  for (size_t i = 0; i < s.axes.size(); ++i) {
    const int a = s.axes[i];
    ResizeAxis ax = make_resize_axis(a, x[a], s.out[static_cast<size_t>(a)], s.scales[i], o);
    if (!ax.identity) passes.push_back(std::move(ax));
  }
  return passes;
}

}  // namespace kit
}  // namespace xhal
