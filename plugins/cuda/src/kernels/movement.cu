// Shape and data movement kernels of the CUDA plugin: reshape, flatten, squeeze, unsqueeze,
// transpose, expand, tile, slice, concat, split, shape, size and range.
//
// How: every op but shape/size/range is a strided copy (support.h copy_strided) between a view
// of the (possibly strided) input and a view of the compact output, dispatched on the element
// size, so one instantiation serves every dtype of that size:
//   reshape/flatten/squeeze/unsqueeze: the input in its own shape into the compact output;
//   transpose: the output shape with permuted input strides;   expand: 0 strides where the input
//   broadcasts;   slice: the input pointer at the starts, strides times steps (negative steps
//   are negative strides);   concat/split: one copy per operand into/out of a sub-view.
// tile has its own kernel (the output coordinate modulo the input dimension). shape and size
// write host-known int64 values through a kernel taking them as arguments; range computes
// start + i * delta on the device (float64 for floats, rounded once, as the CPU plugin).
//
// Not done: reshape-like ops always copy (the output is a separate buffer; the same buffer is
// left alone); strided views that still need more than 8 dimensions after merging are refused
// (UNSUPPORTED) by copy_strided.
#include <algorithm>
#include <cmath>
#include <vector>

#include "movement_common.cuh"
#include "registry.h"

namespace xhal_cuda {
namespace {

using mv::elem_size;
using mv::normalize_axis;

// Copies `in` (any strides) into the compact output `out` of the same element count.
xhal_status_t copy_whole(const Call& call, const xhal_tensor_t* in, xhal_tensor_t* out) {
  if (shape_of(in).numel() == 0) return XHAL_OK;
  return mv::copy_to_compact(call, in, data_as<char>(out));
}

xhal_status_t finish_view(const Call& call, const char* out_role, const xhal_tensor_t* in,
                          xhal_tensor_t* out, const Shape& expect) {
  XHAL_CUDA_TRY(check_shape(call, out_role, out, expect));
  return copy_whole(call, in, out);
}

// ---- reshape ------------------------------------------------------------------------------
xhal_status_t resolve_shape(const Call& call, const Shape& in, const std::vector<int64_t>& spec,
                            bool allowzero, Shape* out) {
  const int64_t n = static_cast<int64_t>(spec.size());
  if (n > kMaxRank)
    return fail(XHAL_ERROR_UNSUPPORTED, "reshape: target rank %lld exceeds %d",
                static_cast<long long>(n), kMaxRank);
  (void)call;
  int infer = -1;
  bool has_zero = false;
  int64_t known = 1;
  out->rank = static_cast<int>(n);
  for (int i = 0; i < out->rank; ++i) {
    int64_t d = spec[i];
    if (d == -1) {
      if (infer >= 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: more than one -1 in shape");
      infer = i;
      continue;
    }
    if (d < -1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: invalid dimension %lld in shape",
                  static_cast<long long>(d));
    if (d == 0 && !allowzero) {
      if (i >= in.rank)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "reshape: shape[%d] = 0 copies a dimension the input %s does not have", i,
                    to_string(in).c_str());
      d = in[i];
    }
    if (d == 0) has_zero = true;
    out->d[i] = d;
    if (d != 0 && known > (int64_t{1} << 62) / d)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: shape has too many elements");
    known *= d;
  }
  const int64_t total = in.numel();
  if (infer >= 0) {
    if (allowzero && has_zero)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reshape: -1 cannot be combined with a literal 0 when allowzero = 1");
    if (known == 0 || total % known != 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "reshape: cannot infer -1 reshaping %s (%lld elements)", to_string(in).c_str(),
                  static_cast<long long>(total));
    out->d[infer] = total / known;
  } else if (known != total) {
    return fail(XHAL_ERROR_INVALID_ARGUMENT,
                "reshape: %s has %lld elements; the new shape %s has %lld", to_string(in).c_str(),
                static_cast<long long>(total), to_string(*out).c_str(),
                static_cast<long long>(known));
  }
  return XHAL_OK;
}

template <int32_t DT>
xhal_status_t reshape_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                             const xhal_tensor_t* shape, const xhal_reshape_v1_attrs_t* given,
                             xhal_tensor_t* out) noexcept {
  return guarded("reshape", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("reshape", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output reshaped", out, DT));
    const auto at = read_attrs(given, xhal_reshape_v1_attrs_init);
    if (at.allowzero != 0 && at.allowzero != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: allowzero (%lld) must be 0 or 1",
                  static_cast<long long>(at.allowzero));
    if (shape == nullptr || shape->ndim != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "reshape: input shape must be a 1-D tensor");
    std::vector<int64_t> spec;
    XHAL_CUDA_TRY(mv::host_int_list(call, "input shape", shape, &spec));
    Shape expect;
    XHAL_CUDA_TRY(resolve_shape(call, shape_of(data), spec, at.allowzero == 1, &expect));
    return finish_view(call, "output reshaped", data, out, expect);
  });
}

// ---- flatten / squeeze / unsqueeze ----------------------------------------------------------
template <int32_t DT>
xhal_status_t flatten_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                             const xhal_flatten_v1_attrs_t* given, xhal_tensor_t* out) noexcept {
  return guarded("flatten", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("flatten", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input input", in, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, DT));
    const auto at = read_attrs(given, xhal_flatten_v1_attrs_init);
    const Shape dx = shape_of(in);
    if (at.axis < -dx.rank || at.axis > dx.rank)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "flatten: axis %lld is out of range [%d, %d]",
                  static_cast<long long>(at.axis), -dx.rank, dx.rank);
    const int a = static_cast<int>(at.axis < 0 ? at.axis + dx.rank : at.axis);
    Shape expect;
    expect.push_back(mv::product(dx, 0, a));
    expect.push_back(mv::product(dx, a, dx.rank));
    return finish_view(call, "output output", in, out, expect);
  });
}

template <int32_t DT>
xhal_status_t squeeze_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                             const xhal_tensor_t* axes, const xhal_squeeze_v1_attrs_t*,
                             xhal_tensor_t* out) noexcept {
  return guarded("squeeze", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("squeeze", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", in, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output squeezed", out, DT));
    const Shape dx = shape_of(in);
    bool drop[kMaxRank] = {};
    std::vector<int64_t> list;
    if (axes != nullptr) XHAL_CUDA_TRY(mv::host_int_list(call, "input axes", axes, &list));
    if (list.empty()) {
      for (int i = 0; i < dx.rank; ++i) drop[i] = dx[i] == 1;
    } else {
      for (int64_t v : list) {
        const int a = normalize_axis(v, dx.rank);
        if (a < 0 || drop[a] || dx[a] != 1)
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "squeeze: axis %lld of data %s is out of range, repeated or not of size 1",
                      static_cast<long long>(v), to_string(dx).c_str());
        drop[a] = true;
      }
    }
    Shape expect;
    for (int i = 0; i < dx.rank; ++i)
      if (!drop[i]) expect.push_back(dx[i]);
    return finish_view(call, "output squeezed", in, out, expect);
  });
}

template <int32_t DT>
xhal_status_t unsqueeze_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                               const xhal_tensor_t* axes, const xhal_unsqueeze_v1_attrs_t*,
                               xhal_tensor_t* out) noexcept {
  return guarded("unsqueeze", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("unsqueeze", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", in, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output expanded", out, DT));
    const Shape dx = shape_of(in);
    std::vector<int64_t> list;
    XHAL_CUDA_TRY(mv::host_int_list(call, "input axes", axes, &list));
    const int64_t n = static_cast<int64_t>(list.size());
    if (dx.rank + n > kMaxRank)
      return fail(XHAL_ERROR_UNSUPPORTED, "unsqueeze: output rank %lld exceeds %d",
                  static_cast<long long>(dx.rank + n), kMaxRank);
    const int rank = dx.rank + static_cast<int>(n);
    bool add[kMaxRank] = {};
    for (int64_t v : list) {
      const int a = normalize_axis(v, rank);
      if (a < 0 || add[a])
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "unsqueeze: axis %lld is out of range or repeated for output rank %d",
                    static_cast<long long>(v), rank);
      add[a] = true;
    }
    Shape expect;
    for (int i = 0, j = 0; i < rank; ++i) expect.push_back(add[i] ? 1 : dx[j++]);
    return finish_view(call, "output expanded", in, out, expect);
  });
}

// ---- transpose ------------------------------------------------------------------------------
template <int32_t DT>
xhal_status_t transpose_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                               const xhal_transpose_v1_attrs_t* given,
                               xhal_tensor_t* out) noexcept {
  return guarded("transpose", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("transpose", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output transposed", out, DT));
    const auto at = read_attrs(given, xhal_transpose_v1_attrs_init);
    const Shape dx = shape_of(data);
    int perm[kMaxRank];
    if (at.perm_count == 0) {
      for (int i = 0; i < dx.rank; ++i) perm[i] = dx.rank - 1 - i;
    } else {
      if (at.perm_count != dx.rank || at.perm == nullptr)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "transpose: perm has %lld entries; data %s has rank %d",
                    static_cast<long long>(at.perm_count), to_string(dx).c_str(), dx.rank);
      bool seen[kMaxRank] = {};
      for (int i = 0; i < dx.rank; ++i) {
        const int64_t a = at.perm[i];
        if (a < 0 || a >= dx.rank || seen[a])
          return fail(XHAL_ERROR_INVALID_ARGUMENT,
                      "transpose: perm is not a permutation of 0..%d (entry %d is %lld)",
                      dx.rank - 1, i, static_cast<long long>(a));
        seen[a] = true;
        perm[i] = static_cast<int>(a);
      }
    }
    Shape expect;
    int64_t xs[kMaxRank], src[kMaxRank], dst[kMaxRank];
    strides_of(data, xs);
    for (int i = 0; i < dx.rank; ++i) {
      expect.push_back(dx[perm[i]]);
      src[i] = xs[perm[i]];
    }
    XHAL_CUDA_TRY(check_shape(call, "output transposed", out, expect));
    compact_strides(expect, dst);
    return copy_strided(call, expect, data_as<const char>(data), src, data_as<char>(out), dst,
                        elem_size(DT));
  });
}

// ---- expand ---------------------------------------------------------------------------------
template <int32_t DT>
xhal_status_t expand_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                            const xhal_tensor_t* shape, const xhal_expand_v1_attrs_t*,
                            xhal_tensor_t* out) noexcept {
  return guarded("expand", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("expand", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input input", in, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, DT));
    if (shape == nullptr || shape->ndim != 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "expand: input shape must be a 1-D tensor");
    std::vector<int64_t> target;
    XHAL_CUDA_TRY(mv::host_int_list(call, "input shape", shape, &target));
    if (static_cast<int64_t>(target.size()) > kMaxRank)
      return fail(XHAL_ERROR_UNSUPPORTED, "expand: shape rank %zu exceeds %d", target.size(),
                  kMaxRank);
    for (size_t i = 0; i < target.size(); ++i)
      if (target[i] < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "expand: shape[%zu] = %lld is negative", i,
                    static_cast<long long>(target[i]));
    const Shape dx = shape_of(in);
    const int tr = static_cast<int>(target.size());
    const int rank = std::max(dx.rank, tr);
    int64_t xs[kMaxRank], src[kMaxRank], dst[kMaxRank];
    strides_of(in, xs);
    Shape expect;
    expect.rank = rank;
    for (int i = 0; i < rank; ++i) {
      const int ix = i - (rank - dx.rank), it = i - (rank - tr);
      const int64_t a = ix >= 0 ? dx[ix] : 1, b = it >= 0 ? target[it] : 1;
      if (a != b && a != 1 && b != 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "expand: input %s does not broadcast with shape (axis %d: %lld vs %lld)",
                    to_string(dx).c_str(), i, static_cast<long long>(a),
                    static_cast<long long>(b));
      expect.d[i] = a == 1 ? b : a;
      src[i] = (ix >= 0 && a != 1) ? xs[ix] : 0;
    }
    XHAL_CUDA_TRY(check_shape(call, "output output", out, expect));
    compact_strides(expect, dst);
    return copy_strided(call, expect, data_as<const char>(in), src, data_as<char>(out), dst,
                        elem_size(DT));
  });
}

// ---- tile -----------------------------------------------------------------------------------
struct TileParams {
  int rank;
  int64_t out_dims[kMaxRank];
  int64_t in_dims[kMaxRank];
  int64_t in_strides[kMaxRank];
};

template <class W>
__global__ void tile_kernel_dev(TileParams p, int64_t n, const W* x, W* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t rest = i, off = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
      const int64_t c = rest % p.out_dims[d];
      rest /= p.out_dims[d];
      off += (c % p.in_dims[d]) * p.in_strides[d];
    }
    y[i] = x[off];
  }
}

template <int32_t DT>
xhal_status_t tile_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* in,
                          const xhal_tensor_t* repeats, const xhal_tile_v1_attrs_t*,
                          xhal_tensor_t* out) noexcept {
  return guarded("tile", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("tile", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input input", in, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, DT));
    const Shape dx = shape_of(in);
    std::vector<int64_t> rep;
    XHAL_CUDA_TRY(mv::host_int_list(call, "input repeats", repeats, &rep));
    if (repeats->ndim != 1 || static_cast<int64_t>(rep.size()) != dx.rank)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "tile: repeats must be 1-D with one entry per axis of input %s, got shape %s",
                  to_string(dx).c_str(), to_string(shape_of(repeats)).c_str());
    Shape expect;
    for (int i = 0; i < dx.rank; ++i) {
      if (rep[i] < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "tile: repeats[%d] = %lld is negative", i,
                    static_cast<long long>(rep[i]));
      expect.push_back(dx[i] * rep[i]);
    }
    XHAL_CUDA_TRY(check_shape(call, "output output", out, expect));
    const int64_t n = expect.numel();
    if (n == 0) return XHAL_OK;
    TileParams p{};
    p.rank = dx.rank;
    int64_t xs[kMaxRank];
    strides_of(in, xs);
    for (int i = 0; i < dx.rank; ++i) {
      p.out_dims[i] = expect[i];
      p.in_dims[i] = dx[i];
      p.in_strides[i] = xs[i];
    }
    using W = std::conditional_t<
        sizeof(dtype_t<DT>) == 1, uint8_t,
        std::conditional_t<sizeof(dtype_t<DT>) == 2, uint16_t,
                           std::conditional_t<sizeof(dtype_t<DT>) == 4, uint32_t, uint64_t>>>;
    tile_kernel_dev<W><<<grid_for(n), 256, 0, call.stream>>>(p, n, data_as<const W>(in),
                                                             data_as<W>(out));
    return check_launch(call, "tile");
  });
}

// ---- slice ----------------------------------------------------------------------------------
template <int32_t DT>
xhal_status_t slice_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                           const xhal_tensor_t* starts, const xhal_tensor_t* ends,
                           const xhal_tensor_t* axes, const xhal_tensor_t* steps,
                           const xhal_slice_v1_attrs_t*, xhal_tensor_t* out) noexcept {
  return guarded("slice", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("slice", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, DT));
    std::vector<int64_t> st, en, ax, sp;
    XHAL_CUDA_TRY(mv::host_int_list(call, "input starts", starts, &st));
    XHAL_CUDA_TRY(mv::host_int_list(call, "input ends", ends, &en));
    if (axes != nullptr) XHAL_CUDA_TRY(mv::host_int_list(call, "input axes", axes, &ax));
    if (steps != nullptr) XHAL_CUDA_TRY(mv::host_int_list(call, "input steps", steps, &sp));
    const size_t n = st.size();
    if (en.size() != n || (axes != nullptr && ax.size() != n) ||
        (steps != nullptr && sp.size() != n))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "slice: starts, ends, axes and steps must have one length (%zu, %zu, %zu, %zu)",
                  n, en.size(), axes ? ax.size() : n, steps ? sp.size() : n);
    const Shape dx = shape_of(data);
    int64_t start[kMaxRank], step[kMaxRank];
    Shape expect = dx;
    bool seen[kMaxRank] = {};
    for (int i = 0; i < dx.rank; ++i) {
      start[i] = 0;
      step[i] = 1;
    }
    for (size_t i = 0; i < n; ++i) {
      const int64_t given_axis = axes != nullptr ? ax[i] : static_cast<int64_t>(i);
      const int a = normalize_axis(given_axis, dx.rank);
      if (a < 0 || seen[a])
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "slice: axis %lld is out of range or repeated for data %s",
                    static_cast<long long>(given_axis), to_string(dx).c_str());
      seen[a] = true;
      const int64_t stp = steps != nullptr ? sp[i] : 1;
      if (stp == 0) return fail(XHAL_ERROR_INVALID_ARGUMENT, "slice: steps must not contain 0");
      const int64_t dim = dx[a];
      int64_t s = st[i], e = en[i];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      int64_t count;
      if (stp > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
        count = e > s ? (e - s + stp - 1) / stp : 0;
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
        count = s > e ? (s - e + (-stp) - 1) / (-stp) : 0;
      }
      start[a] = s;
      step[a] = stp;
      expect.d[a] = count;
    }
    XHAL_CUDA_TRY(check_shape(call, "output output", out, expect));
    if (expect.numel() == 0) return XHAL_OK;
    int64_t xs[kMaxRank], src[kMaxRank], dst[kMaxRank];
    strides_of(data, xs);
    int64_t off = 0;
    for (int i = 0; i < dx.rank; ++i) {
      off += start[i] * xs[i];
      src[i] = step[i] * xs[i];
    }
    compact_strides(expect, dst);
    const int elem = elem_size(DT);
    return copy_strided(call, expect, data_as<const char>(data) + off * elem, src,
                        data_as<char>(out), dst, elem);
  });
}

// ---- concat ---------------------------------------------------------------------------------
template <int32_t DT>
xhal_status_t concat_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* const* inputs,
                            int32_t count, const xhal_concat_v1_attrs_t* given,
                            xhal_tensor_t* out) noexcept {
  return guarded("concat", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("concat", ctx, &call));
    if (count < 1 || inputs == nullptr)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "concat: needs at least one input, got %d", count);
    for (int32_t k = 0; k < count; ++k) XHAL_CUDA_TRY(check_tensor(call, "input", inputs[k], DT));
    XHAL_CUDA_TRY(check_tensor(call, "output concat_result", out, DT));
    const auto at = read_attrs(given, xhal_concat_v1_attrs_init);
    const Shape d0 = shape_of(inputs[0]);
    const int axis = normalize_axis(at.axis, d0.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "concat: axis %lld is out of range for inputs[0] %s",
                  static_cast<long long>(at.axis), to_string(d0).c_str());
    Shape expect = d0;
    expect.d[axis] = 0;
    for (int32_t k = 0; k < count; ++k) {
      const Shape dk = shape_of(inputs[k]);
      bool ok = dk.rank == d0.rank;
      for (int i = 0; ok && i < d0.rank; ++i) ok = i == axis || dk[i] == d0[i];
      if (!ok)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "concat: inputs[%d] %s does not match inputs[0] %s off axis %d", k,
                    to_string(dk).c_str(), to_string(d0).c_str(), axis);
      expect.d[axis] += dk[axis];
    }
    XHAL_CUDA_TRY(check_shape(call, "output concat_result", out, expect));
    if (expect.numel() == 0) return XHAL_OK;
    int64_t dst[kMaxRank];
    compact_strides(expect, dst);
    const int elem = elem_size(DT);
    int64_t at_axis = 0;
    for (int32_t k = 0; k < count; ++k) {
      const Shape dk = shape_of(inputs[k]);
      int64_t src[kMaxRank];
      strides_of(inputs[k], src);
      XHAL_CUDA_TRY(copy_strided(call, dk, data_as<const char>(inputs[k]), src,
                                 data_as<char>(out) + at_axis * dst[axis] * elem, dst, elem));
      at_axis += dk[axis];
    }
    return XHAL_OK;
  });
}

// ---- split ----------------------------------------------------------------------------------
template <int32_t DT>
xhal_status_t split_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* input,
                           const xhal_tensor_t* split, const xhal_split_v1_attrs_t* given,
                           xhal_tensor_t* const* outputs, int32_t count) noexcept {
  return guarded("split", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("split", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input input", input, DT));
    if (count < 1 || outputs == nullptr)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: needs at least one output, got %d", count);
    for (int32_t k = 0; k < count; ++k)
      XHAL_CUDA_TRY(check_tensor(call, "output", outputs[k], DT));
    const auto at = read_attrs(given, xhal_split_v1_attrs_init);
    const Shape dx = shape_of(input);
    const int axis = normalize_axis(at.axis, dx.rank);
    if (axis < 0)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: axis %lld is out of range for input %s",
                  static_cast<long long>(at.axis), to_string(dx).c_str());
    const int64_t dim = dx[axis];
    std::vector<int64_t> sizes;
    if (split != nullptr) {
      if (at.num_outputs != 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "split: give either the split input or num_outputs (%lld), not both",
                    static_cast<long long>(at.num_outputs));
      if (split->ndim != 1)
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: split must be 1-D, got %s",
                    to_string(shape_of(split)).c_str());
      XHAL_CUDA_TRY(mv::host_int_list(call, "input split", split, &sizes));
      int64_t sum = 0;
      for (size_t i = 0; i < sizes.size(); ++i) {
        if (sizes[i] < 0 || sizes[i] > dim)
          return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: split[%zu] = %lld is not in [0, %lld]",
                      i, static_cast<long long>(sizes[i]), static_cast<long long>(dim));
        sum += sizes[i];
      }
      if (sum != dim)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "split: split sums to %lld, axis %d of input %s has %lld",
                    static_cast<long long>(sum), axis, to_string(dx).c_str(),
                    static_cast<long long>(dim));
    } else {
      const int64_t n = at.num_outputs;
      if (n <= 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "split: neither the split input nor a positive num_outputs (%lld) is given",
                    static_cast<long long>(n));
      const int64_t chunk = (dim + n - 1) / n, last = dim - chunk * (n - 1);
      if (last < 0)
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "split: cannot split %lld into %lld parts of %lld",
                    static_cast<long long>(dim), static_cast<long long>(n),
                    static_cast<long long>(chunk));
      sizes.assign(static_cast<size_t>(n), chunk);
      sizes.back() = last;
    }
    if (static_cast<int64_t>(sizes.size()) != count)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: %d outputs given, the split makes %zu",
                  count, sizes.size());
    for (int32_t k = 0; k < count; ++k) {
      Shape expect = dx;
      expect.d[axis] = sizes[k];
      if (expect != shape_of(outputs[k]))
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "split: outputs[%d] has shape %s; expected %s",
                    k, to_string(shape_of(outputs[k])).c_str(), to_string(expect).c_str());
    }
    int64_t xs[kMaxRank];
    strides_of(input, xs);
    const int elem = elem_size(DT);
    int64_t at_axis = 0;
    for (int32_t k = 0; k < count; ++k) {
      const Shape dk = shape_of(outputs[k]);
      int64_t dst[kMaxRank];
      compact_strides(dk, dst);
      XHAL_CUDA_TRY(copy_strided(call, dk, data_as<const char>(input) + at_axis * xs[axis] * elem,
                                 xs, data_as<char>(outputs[k]), dst, elem));
      at_axis += sizes[k];
    }
    return XHAL_OK;
  });
}

// ---- shape / size ---------------------------------------------------------------------------
struct Int64Values {
  int64_t v[kMaxRank];
};

__global__ void write_values_kernel(Int64Values vals, int n, int64_t* y, int64_t stride) {
  const int i = threadIdx.x;
  if (i < n) y[i * stride] = vals.v[i];
}

template <int32_t DT>
xhal_status_t shape_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                           const xhal_shape_v1_attrs_t* given, xhal_tensor_t* out) noexcept {
  return guarded("shape", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("shape", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output shape", out, XHAL_DTYPE_INT64));
    const auto at = read_attrs(given, xhal_shape_v1_attrs_init);
    const Shape dx = shape_of(data);
    const int64_t rank = dx.rank;
    int64_t s = at.start < 0 ? at.start + rank : at.start;
    int64_t e = at.end < 0 ? at.end + rank : at.end;
    s = std::clamp<int64_t>(s, 0, rank);
    e = std::clamp<int64_t>(e, s, rank);
    Shape expect;
    expect.push_back(e - s);
    XHAL_CUDA_TRY(check_shape(call, "output shape", out, expect));
    if (e == s) return XHAL_OK;
    Int64Values vals{};
    for (int64_t i = s; i < e; ++i) vals.v[i - s] = dx[static_cast<int>(i)];
    int64_t os[kMaxRank];
    strides_of(out, os);
    write_values_kernel<<<1, 32, 0, call.stream>>>(vals, static_cast<int>(e - s),
                                                   data_as<int64_t>(out), os[0]);
    return check_launch(call, "shape");
  });
}

template <int32_t DT>
xhal_status_t size_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* data,
                          const xhal_size_v1_attrs_t*, xhal_tensor_t* out) noexcept {
  return guarded("size", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("size", ctx, &call));
    XHAL_CUDA_TRY(check_tensor(call, "input data", data, DT));
    XHAL_CUDA_TRY(check_tensor(call, "output size", out, XHAL_DTYPE_INT64));
    XHAL_CUDA_TRY(check_shape(call, "output size", out, Shape{}));
    Int64Values vals{};
    vals.v[0] = shape_of(data).numel();
    write_values_kernel<<<1, 32, 0, call.stream>>>(vals, 1, data_as<int64_t>(out), 1);
    return check_launch(call, "size");
  });
}

// ---- range ----------------------------------------------------------------------------------
template <class T>
__global__ void range_dev(int64_t n, T start, T delta, T* y) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    if constexpr (std::is_integral<T>::value)
      y[i] = static_cast<T>(static_cast<uint64_t>(start) +
                            static_cast<uint64_t>(i) * static_cast<uint64_t>(delta));
    else  // float64, no contraction into an FMA: the CPU plugin rounds the product first
      y[i] = static_cast<T>(__dadd_rn(static_cast<double>(start),
                                      __dmul_rn(static_cast<double>(i), double(delta))));
  }
}

template <class T>
xhal_status_t range_scalar(const Call& call, const char* role, const xhal_tensor_t* t, T* v) {
  XHAL_CUDA_TRY(check_host_tensor(call, role, t, dtype_of<T>()));
  if (shape_of(t).numel() != 1 || t->ndim > 1)
    return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: %s must be a scalar, got shape %s", role,
                to_string(shape_of(t)).c_str());
  *v = *data_as<const T>(t);
  return XHAL_OK;
}

template <class T>
xhal_status_t range_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* start,
                           const xhal_tensor_t* limit, const xhal_tensor_t* delta,
                           const xhal_range_v1_attrs_t*, xhal_tensor_t* out) noexcept {
  return guarded("range", [&] {
    Call call;
    XHAL_CUDA_TRY(begin_call("range", ctx, &call));
    T s{}, l{}, d{};
    XHAL_CUDA_TRY(range_scalar(call, "input start", start, &s));
    XHAL_CUDA_TRY(range_scalar(call, "input limit", limit, &l));
    XHAL_CUDA_TRY(range_scalar(call, "input delta", delta, &d));
    XHAL_CUDA_TRY(check_tensor(call, "output output", out, dtype_of<T>()));
    if (d == 0) return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: delta must not be 0");
    int64_t n = 0;
    if constexpr (std::is_integral<T>::value) {
      const __int128 span = static_cast<__int128>(l) - s, step = d;
      __int128 q = span / step;
      if ((span % step != 0) && ((span > 0) == (step > 0))) q += 1;
      n = q > 0 ? static_cast<int64_t>(q) : 0;
    } else {
      const double c = std::ceil((static_cast<double>(l) - static_cast<double>(s)) /
                                 static_cast<double>(d));
      if (!(c < 9.2e18))
        return fail(XHAL_ERROR_INVALID_ARGUMENT, "range: the sequence has no finite length");
      n = c > 0 ? static_cast<int64_t>(c) : 0;
    }
    Shape expect;
    expect.push_back(n);
    XHAL_CUDA_TRY(check_shape(call, "output output", out, expect));
    if (n == 0) return XHAL_OK;
    range_dev<T><<<grid_for(n), 256, 0, call.stream>>>(n, s, d, data_as<T>(out));
    return check_launch(call, "range");
  });
}

// ---- registration ---------------------------------------------------------------------------
constexpr uint32_t kFlags = XHAL_KERNEL_FLAG_STRIDED_INPUTS;

xhal_status_t register_movement_family(const xhal_host_api_t* h, xhal_registry_t r) {
  auto reshape = [&](xhal_reshape_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_reshape_v1(h, r, fn, dt, kFlags, "cuda.reshape");
  };
  auto flatten = [&](xhal_flatten_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_flatten_v1(h, r, fn, dt, kFlags, "cuda.flatten");
  };
  auto squeeze = [&](xhal_squeeze_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_squeeze_v1(h, r, fn, dt, kFlags, "cuda.squeeze");
  };
  auto unsqueeze = [&](xhal_unsqueeze_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_unsqueeze_v1(h, r, fn, dt, kFlags, "cuda.unsqueeze");
  };
  auto transpose = [&](xhal_transpose_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_transpose_v1(h, r, fn, dt, kFlags, "cuda.transpose");
  };
  auto expand = [&](xhal_expand_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_expand_v1(h, r, fn, dt, kFlags, "cuda.expand");
  };
  auto tile = [&](xhal_tile_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_tile_v1(h, r, fn, dt, kFlags, "cuda.tile");
  };
  auto slice = [&](xhal_slice_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_slice_v1(h, r, fn, dt, kFlags, "cuda.slice");
  };
  auto concat = [&](xhal_concat_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_concat_v1(h, r, fn, dt, kFlags, "cuda.concat");
  };
  auto split = [&](xhal_split_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_split_v1(h, r, fn, dt, kFlags, "cuda.split");
  };
  auto shape = [&](xhal_shape_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_shape_v1(h, r, fn, dt, kFlags, "cuda.shape");
  };
  auto size = [&](xhal_size_v1_kernel_fn fn, int32_t dt) {
    return xhal_register_size_v1(h, r, fn, dt, kFlags, "cuda.size");
  };
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(reshape, reshape_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(flatten, flatten_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(squeeze, squeeze_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(unsqueeze, unsqueeze_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(transpose, transpose_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(expand, expand_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(tile, tile_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(slice, slice_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(concat, concat_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(split, split_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(shape, shape_kernel);
  XHAL_CUDA_REGISTER_MOVEMENT_DTYPES(size, size_kernel);
  XHAL_CUDA_TRY(xhal_register_range_v1(h, r, range_kernel<float>, XHAL_DTYPE_FLOAT32, kFlags,
                                       "cuda.range"));
  XHAL_CUDA_TRY(xhal_register_range_v1(h, r, range_kernel<double>, XHAL_DTYPE_FLOAT64, kFlags,
                                       "cuda.range"));
  XHAL_CUDA_TRY(xhal_register_range_v1(h, r, range_kernel<int32_t>, XHAL_DTYPE_INT32, kFlags,
                                       "cuda.range"));
  return xhal_register_range_v1(h, r, range_kernel<int64_t>, XHAL_DTYPE_INT64, kFlags,
                                "cuda.range");
}

}  // namespace

XHAL_CUDA_KERNEL_FAMILY(movement, register_movement_family);

}  // namespace xhal_cuda
