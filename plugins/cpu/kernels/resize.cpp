// resize: nearest / linear / cubic, any set of axes. Per resized axis the output coordinates are
// mapped to input coordinates once (float64, the spec's formulas), giving 1, 2 or 4 taps (indices
// clamped to the edge) and their weights (the SDK kit's <xhal/kit/resize_taps.h>, as the CUDA
// plugin's). nearest is then one gather over the output (values copied exactly); linear and cubic
// run one separable pass per axis in the compute type (float64 for float32/float64, float32 for
// float16/bfloat16), in the order the axes are listed. An axis whose output coordinates fall
// exactly on the input elements is skipped (a copy).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <xhal/kit/resize_taps.h>

#include "kernels.h"
#include "norm_common.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "resize";

namespace kit = xhal::kit;
using Axis = kit::ResizeAxis;

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
    kit::ResizeOptions opt;
    std::string err;
    xhal_status_t st = kit::parse_resize_options(at, &opt, &err);
    if (st != XHAL_OK) return fail(st, "%s: %s", kOp, err.c_str());
    const Dims din = dims_of(X), dout = dims_of(Y);
    const int rank = din.rank;
    const bool use_scales = scales != nullptr && numel(scales) > 0;
    std::vector<double> given_scales;
    if (use_scales) {
      XHAL_CPU_TRY(check_tensor(kOp, "input scales", scales, XHAL_DTYPE_FLOAT32));
      const float* sv = data_as<const float>(scales);
      given_scales.assign(sv, sv + numel(scales));
    } else {
      if (sizes == nullptr)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: one of scales and sizes is required", kOp);
      XHAL_CPU_TRY(check_tensor(kOp, "input sizes", sizes, XHAL_DTYPE_INT64));
    }
    kit::ResizeShape shape;
    st = kit::resize_output_shape(din.d, rank, at.axes, at.axes_count,
                                  use_scales ? given_scales.data() : nullptr,
                                  use_scales ? nullptr : data_as<const int64_t>(sizes),
                                  numel(use_scales ? scales : sizes), &shape, &err);
    if (st != XHAL_OK) return fail(st, "%s: %s", kOp, err.c_str());
    Dims want;
    for (int64_t d : shape.out) want.push_back(d);
    if (want != dout)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output Y has shape %s; %s expected", kOp,
                  to_string(dout).c_str(), to_string(want).c_str());
    if (dout.numel() == 0) return XHAL_OK;
    const std::vector<Axis> plan = kit::resize_passes(din.d, shape, opt);
    const T* x = data_as<const T>(X);
    T* y = data_as<T>(Y);
    if (plan.empty()) {
      std::memcpy(static_cast<void*>(y), x, static_cast<size_t>(dout.numel()) * sizeof(T));
      return XHAL_OK;
    }
    if (opt.mode == kit::ResizeMode::kNearest) {  // one gather: output -> input index per axis
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
