// pad (ONNX Pad-25): constant / reflect / edge / wrap, negative pads cropping first, for every
// dtype of the spec.
//
// How: one thread per output element (grid-stride). Per axis the output coordinate is mapped
// to an input coordinate with the CPU plugin's rule (source_index: `lo` new elements before the
// `kept` input elements that start at `first`; reflect / edge / wrap fold the coordinate back,
// constant gives -1); any -1 writes the constant. The input is read through its own strides;
// values are moved as 1/2/4/8-byte words (one instantiation per element size). pads and axes
// are host_memory; constant_value is a device tensor read by the kernel (0 when absent).
//
// Not done: nothing beyond the CPU plugin; ranks up to 32.
#include <string>
#include <type_traits>
#include <vector>

#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

constexpr const char* kOp = "pad";

enum Mode : int { kConstant = 0, kReflect = 1, kEdge = 2, kWrap = 3 };

struct PadParams {
  int rank;
  int mode;
  int64_t out_dims[kMaxRank];
  int64_t in_strides[kMaxRank];
  int64_t lo[kMaxRank];
  int64_t kept[kMaxRank];
  int64_t first[kMaxRank];
};

__device__ __forceinline__ int64_t source_index(int64_t i, int64_t lo, int64_t kept,
                                                int64_t first, int mode) {
  int64_t k = i - lo;
  if (k >= 0 && k < kept) return first + k;
  switch (mode) {
    case kConstant:
      return -1;
    case kEdge:
      k = k < 0 ? 0 : kept - 1;
      break;
    case kWrap:
      k %= kept;
      if (k < 0) k += kept;
      break;
    default: {  // reflect
      if (kept == 1) {
        k = 0;
        break;
      }
      const int64_t period = 2 * (kept - 1);
      k %= period;
      if (k < 0) k += period;
      if (k >= kept) k = period - k;
      break;
    }
  }
  return first + k;
}

template <class W>
__global__ void pad_dev(PadParams p, int64_t total, const W* x, const W* cval, W* y) {
  const W c = cval != nullptr ? *cval : W(0);
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < total;
       u += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = u, off = 0;
    bool inside = true;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t i = rest % p.out_dims[d];
      rest /= p.out_dims[d];
      const int64_t s = source_index(i, p.lo[d], p.kept[d], p.first[d], p.mode);
      if (s < 0) {
        inside = false;
        break;
      }
      off += s * p.in_strides[d];
    }
    y[u] = inside ? x[off] : c;
  }
}

template <int32_t DT>
xhal_status_t pad_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                         const xhal_tensor_t* pads, const xhal_tensor_t* constant_value,
                         const xhal_tensor_t* axes, const xhal_pad_v1_attrs_t* given,
                         xhal_tensor_t* output) noexcept {
  return guarded(kOp, [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call(kOp, ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output output", output, DT));
    const auto at = read_attrs(given, xhal_pad_v1_attrs_init);
    const std::string m = at.mode != nullptr ? at.mode : "constant";
    int mode;
    if (m == "constant")
      mode = kConstant;
    else if (m == "reflect")
      mode = kReflect;
    else if (m == "edge")
      mode = kEdge;
    else if (m == "wrap")
      mode = kWrap;
    else
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: mode '%s' is not one of constant, reflect, edge, wrap", kOp, m.c_str());
    const Shape din = shape_of(data);
    const int rank = din.rank;
    if (pads == nullptr)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: input pads is required", kOp);
    std::vector<int64_t> p, ax;
    XHAL_CUDA_TRY(mv::host_int_list(call, "input pads", pads, &p));
    if (axes != nullptr) {
      XHAL_CUDA_TRY(mv::host_int_list(call, "input axes", axes, &ax));
    } else {
      for (int a = 0; a < rank; ++a) ax.push_back(a);
    }
    if (p.size() != 2 * ax.size())
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: pads has %zu values; %zu expected", kOp,
                  p.size(), 2 * ax.size());
    int64_t begin[kMaxRank] = {}, end[kMaxRank] = {};
    bool seen[kMaxRank] = {};
    for (size_t i = 0; i < ax.size(); ++i) {
      const int a = mv::normalize_axis(ax[i], rank);
      if (a < 0 || seen[a])
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: axes value %lld is out of range or repeated for data %s", kOp,
                    static_cast<long long>(ax[i]), to_string(din).c_str());
      seen[a] = true;
      begin[a] = p[i];
      end[a] = p[ax.size() + i];
    }
    const void* cval = nullptr;
    if (constant_value != nullptr) {
      XHAL_CUDA_TRY(check_tensor(call, "input constant_value", constant_value, DT));
      if (shape_of(constant_value).numel() != 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: constant_value must hold one value, has %s",
                    kOp, to_string(shape_of(constant_value)).c_str());
      cval = data_as<const char>(constant_value);
    }
    PadParams pp{};
    pp.rank = rank;
    pp.mode = mode;
    int64_t xs[kMaxRank];
    strides_of(data, xs);
    Shape want = din;
    for (int a = 0; a < rank; ++a) {
      const int64_t first = std::max<int64_t>(-begin[a], 0);
      const int64_t kept = din[a] - first - std::max<int64_t>(-end[a], 0);
      const int64_t lo = std::max<int64_t>(begin[a], 0);
      want.d[a] = din[a] + begin[a] + end[a];
      if (kept < 0 || want[a] < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: pads crop axis %d of data %s below zero",
                    kOp, a, to_string(din).c_str());
      if (kept == 0 && want[a] > 0 && mode != kConstant)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: mode '%s' cannot pad axis %d of data %s: no element is left", kOp,
                    m.c_str(), a, to_string(din).c_str());
      pp.out_dims[a] = want[a];
      pp.in_strides[a] = xs[a];
      pp.lo[a] = lo;
      pp.kept[a] = kept;
      pp.first[a] = first;
    }
    XHAL_CUDA_TRY(check_shape(call, "output output", output, want));
    const int64_t total = want.numel();
    if (total == 0) return XHAL_OK;
    using W = std::conditional_t<
        sizeof(dtype_t<DT>) == 1, uint8_t,
        std::conditional_t<sizeof(dtype_t<DT>) == 2, uint16_t,
                           std::conditional_t<sizeof(dtype_t<DT>) == 4, uint32_t, uint64_t>>>;
    pad_dev<W><<<grid_for(total), 256, 0, call.stream>>>(
        pp, total, data_as<const W>(data), static_cast<const W*>(cval), data_as<W>(output));
    return check_launch(call, "pad");
  });
}

xhal_status_t register_pad_family(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reg = [&](xhal_pad_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_pad_v1(h, r, fn, dt, XHAL_KERNEL_FLAG_STRIDED_INPUTS, "cuda.pad");
  };
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(reg, pad_kernel);
  return XHAL_OK;
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(pad, register_pad_family);

}  // namespace xhal_cuda
