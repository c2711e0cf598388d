// resize (ONNX Resize-19): nearest / linear / cubic over any set of axes, float32 / float64 /
// float16 / bfloat16, with every coordinate_transformation_mode and nearest_mode the CPU plugin
// supports.
//
// How: the per-axis tap tables (input indices clamped to the edge, and weights) are computed on
// the host by the SDK kit (<xhal/kit/resize_taps.h>, float64 formulas, as the CPU), then uploaded
// through pinned staging into Scratch. nearest: one gather kernel over the output (values
// copied bit for bit, the input read through its strides). linear / cubic: one separable pass
// per resized axis, in the order the axes are listed, in the compute type (float64 for
// float32/float64, float32 for float16/bfloat16, as the CPU), then one rounding store. Axes
// whose output coordinates fall exactly on the input elements are skipped.
//
// Not done (refused as on the CPU): tf_crop_and_resize (roi), antialias, exclude_outside,
// keep_aspect_ratio_policy other than stretch.
#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <xhal/kit/resize_taps.h>

#include "../staging.h"
#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

constexpr const char* kOp = "resize";

namespace kit = xhal::kit;
using Axis = kit::ResizeAxis;

// Host data into a fresh Scratch buffer, through pinned staging (no synchronisation).
template <class V>
xhal_status_t upload(const Call& call, const std::vector<V>& v, Scratch* dst) {
  XHAL_CUDA_TRY(dst->alloc(call, sizeof(V) * v.size()));
  if (v.empty()) return XHAL_OK;
  return staged_host_to_device(call.stream, dst->get(), v.data(), sizeof(V) * v.size());
}

// ---- nearest: one gather --------------------------------------------------------------------
struct NearestParams {
  int rank;
  int64_t out_dims[kMaxRank];
  int64_t in_strides[kMaxRank];
  int64_t map_off[kMaxRank];  // start of each axis's map in the table
};

template <class W>
__global__ void nearest_dev(NearestParams p, int64_t total, const int64_t* maps, const W* x,
                            W* y) {
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = u, off = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t c = rest % p.out_dims[d];
      rest /= p.out_dims[d];
      off += maps[p.map_off[d] + c] * p.in_strides[d];
    }
    y[u] = x[off];
  }
}

// ---- linear / cubic: out[o, j, i] = sum_q w[j, q] * in[o, idx[j, q], i] ----------------------
template <class V>
__global__ void interpolate_dev(int64_t total, int64_t n_in, int64_t n_out, int64_t inner, int k,
                                const int64_t* idx, const V* w, const V* in, V* out) {
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = u % inner, r = u / inner;
    const int64_t j = r % n_out, o = r / n_out;
    const V* base = in + o * n_in * inner + i;
    const int64_t* id = idx + j * k;
    const V* wj = w + j * k;
    V acc = base[id[0] * inner] * wj[0];
    for (int q = 1; q < k; ++q) acc = acc + base[id[q] * inner] * wj[q];
    out[u] = acc;
  }
}

template <class T>
xhal_status_t resize_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* X,
                            const xhal_tensor_t* roi, const xhal_tensor_t* scales,
                            const xhal_tensor_t* sizes, const xhal_resize_v1_attrs_t* given,
                            xhal_tensor_t* Y) noexcept {
  (void)roi;  // only tf_crop_and_resize uses it, which is not supported
  return guarded(kOp, [&] {
    using V = std::conditional_t<std::is_same<T, __half>::value ||
                                     std::is_same<T, __nv_bfloat16>::value,
                                 float, double>;
    constexpr int32_t dt = dtype_of<T>();
    Call call;
    XHAL_CUDA_TRY(begin_call(kOp, ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input X", X, dt));
    XHAL_CUDA_TRY(check_tensor(call, "output Y", Y, dt));
    const auto at = read_attrs(given, xhal_resize_v1_attrs_init);
    kit::ResizeOptions opt;
    std::string err;
    xhal_status_t st = kit::parse_resize_options(at, &opt, &err);
    if (st != XHAL_OK) return fail(st, "%s: %s", kOp, err.c_str());
    const Shape din = shape_of(X);
    const int rank = din.rank;
    const bool use_scales = scales != nullptr && shape_of(scales).numel() > 0;
    std::vector<double> given_scales;
    std::vector<int64_t> given_sizes;
    if (use_scales) {
      XHAL_CUDA_TRY(check_host_tensor(call, "input scales", scales, XHAL_DTYPE_FLOAT32));
      int64_t ss[kMaxRank];
      strides_of(scales, ss);
      const int64_t step = scales->ndim == 0 ? 1 : ss[scales->ndim - 1];
      for (int64_t i = 0; i < shape_of(scales).numel(); ++i)
        given_scales.push_back(static_cast<double>(data_as<const float>(scales)[i * step]));
    } else {
      if (sizes == nullptr)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: one of scales and sizes is required", kOp);
      XHAL_CUDA_TRY(mv::host_int_list(call, "input sizes", sizes, &given_sizes));
    }
    kit::ResizeShape shape;
    st = kit::resize_output_shape(
        din.d, rank, at.axes, at.axes_count, use_scales ? given_scales.data() : nullptr,
        given_sizes.data(),
        static_cast<int64_t>(use_scales ? given_scales.size() : given_sizes.size()), &shape, &err);
    if (st != XHAL_OK) return fail(st, "%s: %s", kOp, err.c_str());
    Shape want;
    for (int64_t d : shape.out) want.push_back(d);
    XHAL_CUDA_TRY(check_shape(call, "output Y", Y, want));
    const int64_t total = want.numel();
    if (total == 0) return XHAL_OK;
    const std::vector<Axis> plan = kit::resize_passes(din.d, shape, opt);
    if (plan.empty()) return mv::copy_to_compact(call, X, data_as<char>(Y));
    int64_t xs[kMaxRank];
    strides_of(X, xs);
    if (opt.mode == kit::ResizeMode::kNearest) {
      std::vector<int64_t> table;
      NearestParams p{};
      p.rank = rank;
      std::vector<const Axis*> by_axis(static_cast<size_t>(rank), nullptr);
      for (const Axis& ax : plan) by_axis[ax.axis] = &ax;
      for (int a = 0; a < rank; ++a) {
        p.out_dims[a] = want[a];
        p.in_strides[a] = xs[a];
        p.map_off[a] = static_cast<int64_t>(table.size());
        if (by_axis[a] != nullptr)
          table.insert(table.end(), by_axis[a]->idx.begin(), by_axis[a]->idx.end());
        else
          for (int64_t j = 0; j < want[a]; ++j) table.push_back(j);
      }
      Scratch maps;
      XHAL_CUDA_TRY(upload(call, table, &maps));
      using W = std::conditional_t<sizeof(T) == 2, uint16_t,
                                   std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
      nearest_dev<W><<<grid_for(total), 256, 0, call.stream>>>(
          p, total, maps.as<int64_t>(), data_as<const W>(X), data_as<W>(Y));
      return check_launch(call, "resize (nearest)");
    }
    // linear / cubic: separable passes in V.
    Scratch buf[2];
    int cur = 0;
    XHAL_CUDA_TRY(buf[cur].alloc(call, sizeof(V) * static_cast<uint64_t>(din.numel())));
    XHAL_CUDA_TRY(
        (mv::convert_strided<T, V>(call, din, data_as<const T>(X), xs, buf[cur].as<V>())));
    Shape d = din;
    for (const Axis& ax : plan) {
      int64_t outer = 1, inner = 1;
      for (int a = 0; a < ax.axis; ++a) outer *= d[a];
      for (int a = ax.axis + 1; a < rank; ++a) inner *= d[a];
      const int64_t n_next = outer * ax.n_out * inner;
      const int nxt = 1 - cur;
      XHAL_CUDA_TRY(buf[nxt].alloc(call, sizeof(V) * static_cast<uint64_t>(n_next)));
      Scratch idx, wts;
      XHAL_CUDA_TRY(upload(call, ax.idx, &idx));
      const std::vector<V> wv(ax.w.begin(), ax.w.end());
      XHAL_CUDA_TRY(upload(call, wv, &wts));
      if (n_next > 0) {
        interpolate_dev<V><<<grid_for(n_next), 256, 0, call.stream>>>(
            n_next, ax.n_in, ax.n_out, inner, ax.k, idx.as<int64_t>(), wts.as<V>(),
            buf[cur].as<V>(), buf[nxt].as<V>());
        XHAL_CUDA_TRY(check_launch(call, "resize (interpolate)"));
      }
      d.d[ax.axis] = ax.n_out;
      cur = nxt;
    }
    return mv::convert_flat<V, T>(call, total, buf[cur].as<V>(), data_as<T>(Y));
  });
}

xhal_status_t register_resize_family(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "cuda.resize";
  constexpr uint32_t f = XHAL_KERNEL_FLAG_STRIDED_INPUTS;
  XHAL_CUDA_TRY(xhal_register_resize_v1(h, r, resize_kernel<float>, XHAL_DTYPE_FLOAT32, f, name));
  XHAL_CUDA_TRY(xhal_register_resize_v1(h, r, resize_kernel<double>, XHAL_DTYPE_FLOAT64, f, name));
  XHAL_CUDA_TRY(xhal_register_resize_v1(h, r, resize_kernel<__half>, XHAL_DTYPE_FLOAT16, f, name));
  return xhal_register_resize_v1(h, r, resize_kernel<__nv_bfloat16>, XHAL_DTYPE_BFLOAT16, f,
                                 name);
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(resize, register_resize_family);

}  // namespace xhal_cuda
