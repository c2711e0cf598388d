// pad: constant / reflect / edge / wrap padding, negative pads cropping first. Values are moved,
// never computed, so one kernel per element size serves every dtype. Each padded axis gets a
// map from output index to input index (-1: the constant); output rows (the last axis) are
// filled as left border (through the map), middle (one memcpy) and right border.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

constexpr const char* kOp = "pad";

enum class Mode { kConstant, kReflect, kEdge, kWrap };

// Input index for output index i of an axis: `lo` pads before `kept` elements that start at
// input index `first`; -1 for the constant.
int64_t source_index(int64_t i, int64_t lo, int64_t kept, int64_t first, Mode mode) {
  int64_t k = i - lo;
  if (k >= 0 && k < kept) return first + k;
  switch (mode) {
    case Mode::kConstant:
      return -1;
    case Mode::kEdge:
      k = k < 0 ? 0 : kept - 1;
      break;
    case Mode::kWrap:
      k %= kept;
      if (k < 0) k += kept;
      break;
    case Mode::kReflect: {
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

xhal_status_t read_int64s(const xhal_tensor_t* t, const char* role, std::vector<int64_t>* out) {
  XHAL_CPU_TRY(check_tensor(kOp, role, t, XHAL_DTYPE_INT64));
  const Dims d = dims_of(t);
  if (d.rank > 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: %s must be 1-D, got %s", kOp, role,
                to_string(d).c_str());
  const int64_t* p = data_as<const int64_t>(t);
  out->assign(p, p + d.numel());
  return XHAL_OK;
}

template <int32_t DT, class S>
xhal_status_t pad_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                         const xhal_tensor_t* pads, const xhal_tensor_t* constant_value,
                         const xhal_tensor_t* axes, const xhal_pad_v1_attrs_t* given,
                         xhal_tensor_t* output) {
  return guarded(kOp, [&] {
    XHAL_CPU_TRY(check_context(kOp, ctx));
    XHAL_CPU_TRY(check_tensor(kOp, "input data", data, DT));
    XHAL_CPU_TRY(check_tensor(kOp, "output output", output, DT));
    const auto at = read_attrs(given, xhal_pad_v1_attrs_init);
    const std::string m = at.mode != nullptr ? at.mode : "constant";
    Mode mode;
    if (m == "constant")
      mode = Mode::kConstant;
    else if (m == "reflect")
      mode = Mode::kReflect;
    else if (m == "edge")
      mode = Mode::kEdge;
    else if (m == "wrap")
      mode = Mode::kWrap;
    else
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: mode '%s' is not one of constant, reflect, edge, wrap", kOp, m.c_str());
    const Dims din = dims_of(data), dout = dims_of(output);
    const int rank = din.rank;
    std::vector<int64_t> p, ax;
    if (pads == nullptr)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: input pads is required", kOp);
    XHAL_CPU_TRY(read_int64s(pads, "input pads", &p));
    if (axes != nullptr) {
      XHAL_CPU_TRY(read_int64s(axes, "input axes", &ax));
    } else {
      for (int a = 0; a < rank; ++a) ax.push_back(a);
    }
    if (p.size() != 2 * ax.size())
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: pads has %zu values; %zu expected", kOp,
                  p.size(), 2 * ax.size());
    std::vector<int64_t> begin(rank, 0), end(rank, 0);
    std::vector<bool> seen(rank, false);
    for (size_t i = 0; i < ax.size(); ++i) {
      const int a = normalize_axis(ax[i], rank);
      if (a < 0 || seen[a])
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: axes value %lld is out of range or repeated for data %s", kOp,
                    static_cast<long long>(ax[i]), to_string(din).c_str());
      seen[a] = true;
      begin[a] = p[i];
      end[a] = p[ax.size() + i];
    }
    S cval{};
    if (constant_value != nullptr) {
      XHAL_CPU_TRY(check_tensor(kOp, "input constant_value", constant_value, DT));
      if (numel(constant_value) != 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: constant_value must hold one value, has %s",
                    kOp, to_string(dims_of(constant_value)).c_str());
      std::memcpy(&cval, data_as<const S>(constant_value), sizeof(S));
    }
    // Per-axis maps, and the expected output shape.
    std::vector<std::vector<int64_t>> maps(rank);
    Dims want = din;
    for (int a = 0; a < rank; ++a) {
      const int64_t first = std::max<int64_t>(-begin[a], 0);
      const int64_t kept = din[a] - first - std::max<int64_t>(-end[a], 0);
      const int64_t lo = std::max<int64_t>(begin[a], 0);
      want[a] = din[a] + begin[a] + end[a];
      if (kept < 0 || want[a] < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: pads crop axis %d of data %s below zero",
                    kOp, a, to_string(din).c_str());
      if (kept == 0 && want[a] > 0 && mode != Mode::kConstant)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: mode '%s' cannot pad axis %d of data %s: no element is left", kOp,
                    m.c_str(), a, to_string(din).c_str());
      maps[a].resize(static_cast<size_t>(want[a]));
      for (int64_t i = 0; i < want[a]; ++i) maps[a][i] = source_index(i, lo, kept, first, mode);
    }
    if (want != dout)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: output has shape %s; %s expected", kOp,
                  to_string(dout).c_str(), to_string(want).c_str());
    if (dout.numel() == 0) return XHAL_OK;
    const S* x = data_as<const S>(data);
    S* y = data_as<S>(output);
    if (rank == 0) {
      y[0] = x[0];
      return XHAL_OK;
    }
    int64_t in_stride[kMaxRank];
    in_stride[rank - 1] = 1;
    for (int a = rank - 2; a >= 0; --a) in_stride[a] = in_stride[a + 1] * din[a + 1];
    const int last = rank - 1;
    const int64_t width = dout[last];
    const int64_t lo = std::max<int64_t>(begin[last], 0);
    const int64_t first = std::max<int64_t>(-begin[last], 0);
    const int64_t kept = din[last] - first - std::max<int64_t>(-end[last], 0);
    const int64_t rows = dout.numel() / width;
    const std::vector<int64_t>& lmap = maps[last];
    const int64_t grain = std::max<int64_t>(1, kParallelGrain / width);
    parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
      int64_t idx[kMaxRank] = {};
      int64_t rem = r0;
      for (int a = last - 1; a >= 0; --a) {
        idx[a] = rem % dout[a];
        rem /= dout[a];
      }
      for (int64_t r = r0; r < r1; ++r) {
        S* yr = y + r * width;
        int64_t off = 0;
        bool inside = true;
        for (int a = 0; a < last; ++a) {
          const int64_t s = maps[a][idx[a]];
          if (s < 0) {
            inside = false;
            break;
          }
          off += s * in_stride[a];
        }
        if (!inside) {
          std::fill(yr, yr + width, cval);
        } else {
          const S* xr = x + off;
          for (int64_t j = 0; j < lo; ++j) yr[j] = lmap[j] < 0 ? cval : xr[lmap[j]];
          if (kept > 0) std::memcpy(yr + lo, xr + first, static_cast<size_t>(kept) * sizeof(S));
          for (int64_t j = lo + kept; j < width; ++j) yr[j] = lmap[j] < 0 ? cval : xr[lmap[j]];
        }
        for (int a = last - 1; a >= 0; --a) {
          if (++idx[a] < dout[a]) break;
          idx[a] = 0;
        }
      }
    });
    return XHAL_OK;
  });
}

}  // namespace

xhal_status_t register_pad_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  const char* name = "xhal.cpu.pad";
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_FLOAT32, uint32_t>,
                                    XHAL_DTYPE_FLOAT32, 0, name));
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_FLOAT64, uint64_t>,
                                    XHAL_DTYPE_FLOAT64, 0, name));
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_FLOAT16, uint16_t>,
                                    XHAL_DTYPE_FLOAT16, 0, name));
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_BFLOAT16, uint16_t>,
                                    XHAL_DTYPE_BFLOAT16, 0, name));
  XHAL_CPU_TRY(
      xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_INT8, uint8_t>, XHAL_DTYPE_INT8, 0, name));
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_UINT8, uint8_t>,
                                    XHAL_DTYPE_UINT8, 0, name));
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_INT32, uint32_t>,
                                    XHAL_DTYPE_INT32, 0, name));
  XHAL_CPU_TRY(xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_INT64, uint64_t>,
                                    XHAL_DTYPE_INT64, 0, name));
  XHAL_CPU_TRY(
      xhal_register_pad_v1(h, r, pad_kernel<XHAL_DTYPE_BOOL, uint8_t>, XHAL_DTYPE_BOOL, 0, name));
  return XHAL_OK;
}

}  // namespace xhal_cpu
