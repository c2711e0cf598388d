// min, max: variadic (one or more inputs), multidirectional broadcasting, NaN propagates.
// Computed as a fold into the output: out = op(X0, X1) (or X0 alone), then out = op(out, Xk).
// float16/bfloat16 go through float32, which is exact for a selection.
#include <cstdio>
#include <type_traits>

#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

struct MinOp {
  static constexpr const char* name = "min";
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>)
      return (a < b || a != a) ? a : b;  // a NaN: a; b NaN: the comparison fails, b
    else
      return a < b ? a : b;
  }
};

struct MaxOp {
  static constexpr const char* name = "max";
  template <class T>
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>)
      return (a > b || a != a) ? a : b;
    else
      return a > b ? a : b;
  }
};

// y (shape dy, compact) = op(a, b), a and b broadcast to dy. y may be a itself.
template <class Op, class T>
void apply_into(const T* a, const Dims& da, const T* b, const Dims& db, T* y, const Dims& dy) {
  const Dims* const in[2] = {&da, &db};
  const ew::Loop<2> loop = ew::make_loop<2>(in, dy);
  ew::loop_all(loop, dy.numel(),
               [&](const int64_t* off, const int64_t* st, int64_t pos, int64_t len) {
                 ew::binary_run<Op, T, T, T>(a + off[0], st[0], b + off[1], st[1], y + pos, len);
               });
}

template <class Op, class T, class Attrs>
xhal_status_t minmax_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* const* X,
                           int32_t count, const Attrs* /*attrs: none*/, xhal_tensor_t* Y) {
  return guarded(Op::name, [&] {
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(Op::name, ctx));
    if (X == nullptr || count < 1)
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: needs at least one input, got %d", Op::name,
                  X == nullptr ? 0 : static_cast<int>(count));
    Dims dy;
    for (int32_t k = 0; k < count; ++k) {
      char role[48];
      std::snprintf(role, sizeof(role), "input data_0[%d]", static_cast<int>(k));
      XHAL_CPU_TRY(check_tensor(Op::name, role, X[k], dt));
      const Dims dk = dims_of(X[k]);
      if (k == 0) {
        dy = dk;
      } else if (Dims joint; broadcast_dims(dy, dk, &joint)) {
        dy = joint;
      } else {
        return fail(XHAL_ERROR_INVALID_ARGUMENT,
                    "%s: input data_0[%d] of shape %s does not broadcast with the earlier inputs "
                    "(broadcast so far: %s)",
                    Op::name, static_cast<int>(k), to_string(dk).c_str(), to_string(dy).c_str());
      }
    }
    XHAL_CPU_TRY(check_tensor(Op::name, "output", Y, dt));
    const Dims dout = dims_of(Y);
    if (dout != dy)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: output has shape %s but the %d inputs broadcast to %s", Op::name,
                  to_string(dout).c_str(), static_cast<int>(count), to_string(dy).c_str());
    if (dy.numel() == 0) return XHAL_OK;
    T* y = data_as<T>(Y);
    const xhal_tensor_t* second = count > 1 ? X[1] : X[0];
    apply_into<Op, T>(data_as<const T>(X[0]), dims_of(X[0]), data_as<const T>(second),
                      dims_of(second), y, dy);
    for (int32_t k = 2; k < count; ++k)
      apply_into<Op, T>(y, dy, data_as<const T>(X[k]), dims_of(X[k]), y, dy);
    return XHAL_OK;
  });
}

template <class... Ts>
xhal_status_t register_types(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK ? st
                       : xhal_register_min_v1(h, r, minmax_entry<MinOp, Ts, xhal_min_v1_attrs_t>,
                                              DType<Ts>::id, 0, "xhal.cpu.min")),
   ...);
  ((st = st != XHAL_OK ? st
                       : xhal_register_max_v1(h, r, minmax_entry<MaxOp, Ts, xhal_max_v1_attrs_t>,
                                              DType<Ts>::id, 0, "xhal.cpu.max")),
   ...);
  return st;
}

}  // namespace

xhal_status_t register_minmax_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_types<float, double, Half, BFloat16, int8_t, uint8_t, int32_t, int64_t>(h, r);
}

}  // namespace xhal_cpu
