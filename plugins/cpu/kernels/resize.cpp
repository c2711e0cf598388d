// resize: nearest / linear / cubic, any set of axes. Per resized axis the output coordinates are
// mapped to input coordinates once (float64, the spec's formulas), giving 1, 2 or 4 taps
// (indices clamped to the edge) and their weights. nearest is then one gather over the output
// (values copied exactly); linear and cubic run one separable pass per axis in the compute type
// (float64 for float32/float64, float32 for float16/bfloat16), in the order the axes are listed.
// An axis whose output coordinates fall exactly on the input elements is skipped (a copy).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels.h"
#include "norm_common.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "resize";

enum class Ctm { kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric,
                 kTfHalfPixelForNn };
enum class Nearest { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

double original_coordinate(double x, Ctm ctm, double scale, int64_t n_in, int64_t n_out) {
  switch (ctm) {
    case Ctm::kHalfPixel:
      return (x + 0.5) / scale - 0.5;
    case Ctm::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(n_out) / (scale * static_cast<double>(n_in));
      const double center = static_cast<double>(n_in) / 2;
      const double offset = center * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case Ctm::kPytorchHalfPixel:
      return n_out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case Ctm::kAlignCorners:  // the unrounded output length, as ONNX's reference
      return n_out == 1 ? 0.0 : x * static_cast<double>(n_in - 1) / (scale * n_in - 1);
    case Ctm::kAsymmetric:
      return x / scale;
    case Ctm::kTfHalfPixelForNn:
      return (x + 0.5) / scale;
  }
  return 0.0;
}

// Taps of one resized axis: idx/w hold n_out * k entries.
struct Axis {
  int axis = 0;
  int64_t n_in = 0, n_out = 0;
  int k = 1;
  bool identity = false;
  std::vector<int64_t> idx;
  std::vector<double> w;
};

void cubic_weights(double t, double a, double* w) {
  const double s = 1 - t;
  w[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * s - (a + 3)) * s * s + 1;
  w[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

Axis make_axis(int axis, int64_t n_in, int64_t n_out, double scale, int mode, Ctm ctm,
               Nearest nm, double cubic_a) {
  Axis ax;
  ax.axis = axis;
  ax.n_in = n_in;
  ax.n_out = n_out;
  ax.k = mode == 0 ? 1 : mode == 1 ? 2 : 4;
  ax.idx.resize(static_cast<size_t>(n_out * ax.k));
  ax.w.resize(ax.idx.size());
  ax.identity = n_in == n_out;
  const int64_t hi = std::max<int64_t>(n_in - 1, 0);
  for (int64_t j = 0; j < n_out; ++j) {
    const double x = original_coordinate(static_cast<double>(j), ctm, scale, n_in, n_out);
    if (x != static_cast<double>(j)) ax.identity = false;
    const double f = std::floor(x);
    const double t = x - f;
    int64_t* id = &ax.idx[static_cast<size_t>(j * ax.k)];
    double* w = &ax.w[static_cast<size_t>(j * ax.k)];
    if (mode == 0) {
      double r = f;
      switch (nm) {
        case Nearest::kRoundPreferFloor:
          r = t > 0.5 ? f + 1 : f;
          break;
        case Nearest::kRoundPreferCeil:
          r = t >= 0.5 ? f + 1 : f;
          break;
        case Nearest::kFloor:
          break;
        case Nearest::kCeil:
          r = std::ceil(x);
          break;
      }
      id[0] = static_cast<int64_t>(std::clamp(r, 0.0, static_cast<double>(hi)));
      w[0] = 1;
    } else if (mode == 1) {
      id[0] = static_cast<int64_t>(std::clamp(f, 0.0, static_cast<double>(hi)));
      id[1] = static_cast<int64_t>(std::clamp(f + 1, 0.0, static_cast<double>(hi)));
      w[0] = 1 - t;
      w[1] = t;
    } else {
      for (int q = 0; q < 4; ++q)
        id[q] = static_cast<int64_t>(std::clamp(f - 1 + q, 0.0, static_cast<double>(hi)));
      cubic_weights(t, cubic_a, w);
    }
  }
  return ax;
}

// out[o, j, i] = sum_q w[j, q] * in[o, idx[j, q], i] for an [outer, n_in, inner] block.
template <class W>
void interpolate_axis(const W* in, W* out, int64_t outer, int64_t inner, const Axis& ax) {
  const std::vector<W> wts(ax.w.begin(), ax.w.end());
  const int64_t rows = outer * ax.n_out;
  const int64_t grain = std::max<int64_t>(1, kParallelGrain / 4 / std::max<int64_t>(1, inner));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r / ax.n_out, j = r % ax.n_out;
      const W* base = in + o * ax.n_in * inner;
      W* dst = out + r * inner;
      const int64_t* id = &ax.idx[static_cast<size_t>(j * ax.k)];
      const W* w = &wts[static_cast<size_t>(j * ax.k)];
      const W* s0 = base + id[0] * inner;
      const W w0 = w[0];
      for (int64_t i = 0; i < inner; ++i) dst[i] = s0[i] * w0;
      for (int q = 1; q < ax.k; ++q) {
        const W* sq = base + id[q] * inner;
        const W wq = w[q];
        for (int64_t i = 0; i < inner; ++i) dst[i] = dst[i] + sq[i] * wq;
      }
    }
  });
}

template <class T>
xhal_status_t resize_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                            const xhal_tensor_t* roi, const xhal_tensor_t* scales,
                            const xhal_tensor_t* sizes, const xhal_resize_v1_attrs_t* given,
                            xhal_tensor_t* Y) {
  (void)roi;  // only tf_crop_and_resize uses it, which is not supported
  return guarded(kOp, [&] {
    using W = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float,
                                 double>;
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input X", X, dt));
    XHAL_CPU_TRY(check_tensor(kOp, "output Y", Y, dt));
    const auto at = read_attrs(given, xhal_resize_v1_attrs_init);
    auto str = [](const char* s, const char* dflt) { return std::string(s ? s : dflt); };
    const std::string mode_s = str(at.mode, "nearest");
    const std::string ctm_s = str(at.coordinate_transformation_mode, "half_pixel");
    const std::string nm_s = str(at.nearest_mode, "round_prefer_floor");
    const std::string policy = str(at.keep_aspect_ratio_policy, "stretch");
    int mode;
    if (mode_s == "nearest")
      mode = 0;
    else if (mode_s == "linear")
      mode = 1;
    else if (mode_s == "cubic")
      mode = 2;
    else
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: mode '%s' is not supported", kOp,
                  mode_s.c_str());
    Ctm ctm;
    if (ctm_s == "half_pixel")
      ctm = Ctm::kHalfPixel;
    else if (ctm_s == "half_pixel_symmetric")
      ctm = Ctm::kHalfPixelSymmetric;
    else if (ctm_s == "pytorch_half_pixel")
      ctm = Ctm::kPytorchHalfPixel;
    else if (ctm_s == "align_corners")
      ctm = Ctm::kAlignCorners;
    else if (ctm_s == "asymmetric")
      ctm = Ctm::kAsymmetric;
    else if (ctm_s == "tf_half_pixel_for_nn")
      ctm = Ctm::kTfHalfPixelForNn;
    else
      return fail(XHAL_ERROR_UNSUPPORTED, "%s: coordinate_transformation_mode '%s' is not supported",
                  kOp, ctm_s.c_str());
    Nearest nm;
    if (nm_s == "round_prefer_floor")
      nm = Nearest::kRoundPreferFloor;
    else if (nm_s == "round_prefer_ceil")
      nm = Nearest::kRoundPreferCeil;
    else if (nm_s == "floor")
      nm = Nearest::kFloor;
    else if (nm_s == "ceil")
      nm = Nearest::kCeil;
    else
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: nearest_mode '%s' is not supported", kOp,
                  nm_s.c_str());
    if (at.antialias != 0 || at.exclude_outside != 0 || policy != "stretch")
      return fail(XHAL_ERROR_UNSUPPORTED,
                  "%s: only antialias 0, exclude_outside 0 and keep_aspect_ratio_policy stretch "
                  "are supported",
                  kOp);
    const Dims din = dims_of(X), dout = dims_of(Y);
    const int rank = din.rank;
    std::vector<int> axes;
    if (at.axes_count > 0) {
      std::vector<bool> seen(rank, false);
      for (int64_t i = 0; i < at.axes_count; ++i) {
        const int a = normalize_axis(at.axes[i], rank);
        if (a < 0 || seen[a])
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "%s: axes value %lld is out of range or repeated for X %s", kOp,
                      static_cast<long long>(at.axes[i]), to_string(din).c_str());
        seen[a] = true;
        axes.push_back(a);
      }
    } else {
      for (int a = 0; a < rank; ++a) axes.push_back(a);
    }
    const bool use_scales = scales != nullptr && numel(scales) > 0;
    if (use_scales) {
      XHAL_CPU_TRY(check_tensor(kOp, "input scales", scales, XHAL_DTYPE_FLOAT32));
    } else {
      if (sizes == nullptr)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: one of scales and sizes is required", kOp);
      XHAL_CPU_TRY(check_tensor(kOp, "input sizes", sizes, XHAL_DTYPE_INT64));
    }
    const xhal_tensor_t* given_t = use_scales ? scales : sizes;
    if (numel(given_t) != static_cast<int64_t>(axes.size()))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s has %lld values; %zu expected", kOp,
                  use_scales ? "scales" : "sizes", static_cast<long long>(numel(given_t)),
                  axes.size());
    Dims want = din;
    std::vector<double> scale(axes.size());
    for (size_t i = 0; i < axes.size(); ++i) {
      const int a = axes[i];
      if (use_scales) {
        const double s = static_cast<double>(data_as<const float>(scales)[i]);
        if (!(s > 0) || !std::isfinite(s))
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: scales must be positive and finite", kOp);
        want[a] = static_cast<int64_t>(std::floor(static_cast<double>(din[a]) * s));
        scale[i] = s;
      } else {
        want[a] = data_as<const int64_t>(sizes)[i];
        if (want[a] < 0)
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: sizes must be >= 0", kOp);
        scale[i] = din[a] ? static_cast<double>(want[a]) / static_cast<double>(din[a]) : 1.0;
      }
      if (din[a] == 0 && want[a] > 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: cannot resize the empty axis %d of X %s",
                    kOp, a, to_string(din).c_str());
    }
    if (want != dout)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; %s expected", kOp,
                  to_string(dout).c_str(), to_string(want).c_str());
    if (dout.numel() == 0) return XHAL_OK;
    std::vector<Axis> plan;
    for (size_t i = 0; i < axes.size(); ++i) {
      Axis ax = make_axis(axes[i], din[axes[i]], dout[axes[i]], scale[i], mode, ctm, nm,
                          static_cast<double>(at.cubic_coeff_a));
      if (!ax.identity) plan.push_back(std::move(ax));
    }
    const T* x = data_as<const T>(X);
    T* y = data_as<T>(Y);
    if (plan.empty()) {
      std::memcpy(static_cast<void*>(y), x, static_cast<size_t>(dout.numel()) * sizeof(T));
      return XHAL_OK;
    }
    if (mode == 0) {  // one gather: output index -> input index per axis
      std::vector<std::vector<int64_t>> maps(rank);
      for (int a = 0; a < rank; ++a) {
        maps[a].resize(static_cast<size_t>(dout[a]));
        for (int64_t j = 0; j < dout[a]; ++j) maps[a][j] = j;
      }
      for (const Axis& ax : plan) maps[ax.axis] = ax.idx;
      int64_t stride[kMaxRank];
      stride[rank - 1] = 1;
      for (int a = rank - 2; a >= 0; --a) stride[a] = stride[a + 1] * din[a + 1];
      const int last = rank - 1;
      const int64_t width = dout[last], rows = dout.numel() / width;
      const std::vector<int64_t>& lmap = maps[last];
      parallel_for(rows, std::max<int64_t>(1, kParallelGrain / width), [&](int64_t r0,
                                                                           int64_t r1) {
        int64_t idx[kMaxRank] = {};
        int64_t rem = r0;
        for (int a = last - 1; a >= 0; --a) {
          idx[a] = rem % dout[a];
          rem /= dout[a];
        }
        for (int64_t r = r0; r < r1; ++r) {
          int64_t off = 0;
          for (int a = 0; a < last; ++a) off += maps[a][idx[a]] * stride[a];
          const T* xr = x + off;
          T* yr = y + r * width;
          for (int64_t j = 0; j < width; ++j) yr[j] = xr[lmap[j]];
          for (int a = last - 1; a >= 0; --a) {
            if (++idx[a] < dout[a]) break;
            idx[a] = 0;
          }
        }
      });
      return XHAL_OK;
    }
    // linear / cubic: separable passes in W.
    std::vector<W> cur(static_cast<size_t>(din.numel())), next;
    norm::load_n(x, cur.data(), din.numel());
    Dims d = din;
    for (const Axis& ax : plan) {
      int64_t outer = 1, inner = 1;
      for (int a = 0; a < ax.axis; ++a) outer *= d[a];
      for (int a = ax.axis + 1; a < rank; ++a) inner *= d[a];
      next.assign(static_cast<size_t>(outer * ax.n_out * inner), W(0));
      interpolate_axis(cur.data(), next.data(), outer, inner, ax);
      d[ax.axis] = ax.n_out;
      cur.swap(next);
    }
    norm::store_n(cur.data(), y, dout.numel());
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_resize_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "xhal.cpu.resize";
  XHAL_CPU_TRY(xhal_register_resize_v1(h, r, resize_kernel<float>, XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_resize_v1(h, r, resize_kernel<double>, XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_resize_v1(h, r, resize_kernel<Half>, XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(
      xhal_register_resize_v1(h, r, resize_kernel<BFloat16>, XHAL_DTYPE_BFLOAT16, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
