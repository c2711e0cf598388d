// where: output = condition ? X : Y, all three broadcast together. Elements are copied bit for
// bit, so one kernel per element width serves every dtype of that width.
#include <cstdint>
#include <cstring>

#include "binary_loop.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

template <class U>
XHAL_CPU_SIMD_CLONES void where_run(const bool* c, int64_t sc, const U* x, int64_t sx,
                                    const U* y, int64_t sy, U* o, int64_t n) {
  if (sc && sx && sy) {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i] : y[i];
  } else if (!sc) {  // one condition for the whole run: a copy or a fill
    const U* src = c[0] ? x : y;
    const int64_t s = c[0] ? sx : sy;
    if (s) {
      std::memcpy(o, src, static_cast<size_t>(n) * sizeof(U));
    } else {
      const U v = src[0];
      for (int64_t i = 0; i < n; ++i) o[i] = v;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? x[i * sx] : y[i * sy];
  }
}

// Storage of the same width as T, copied as is.
template <size_t W>
struct Bits;
template <>
struct Bits<1> {
  using type = uint8_t;
};
template <>
struct Bits<2> {
  using type = uint16_t;
};
template <>
struct Bits<4> {
  using type = uint32_t;
};
template <>
struct Bits<8> {
  using type = uint64_t;
};

template <class T>
xhal_status_t where_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* condition,
                          const xhal_tensor_t* X, const xhal_tensor_t* Y,
                          const xhal_where_v1_attrs_t* /*attrs: none*/, xhal_tensor_t* output) {
  return guarded("where", [&] {
    using U = typename Bits<sizeof(T)>::type;
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context("where", ctx));
    XHAL_CPU_TRY(check_tensor("where", "input condition", condition, XHAL_DTYPE_BOOL));
    XHAL_CPU_TRY(check_tensor("where", "input X", X, dt));
    XHAL_CPU_TRY(check_tensor("where", "input Y", Y, dt));
    XHAL_CPU_TRY(check_tensor("where", "output", output, dt));
    const Dims dc = dims_of(condition), dx = dims_of(X), dy = dims_of(Y), dout = dims_of(output);
    Dims cx, expect;
    if (!broadcast_dims(dc, dx, &cx) || !broadcast_dims(cx, dy, &expect))
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "where: shapes condition %s, X %s and Y %s do not broadcast",
                  to_string(dc).c_str(), to_string(dx).c_str(), to_string(dy).c_str());
    if (expect != dout)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "where: output has shape %s but condition %s, X %s and Y %s broadcast to %s",
                  to_string(dout).c_str(), to_string(dc).c_str(), to_string(dx).c_str(),
                  to_string(dy).c_str(), to_string(expect).c_str());
    const int64_t n = dout.numel();
    if (n == 0) return XHAL_OK;
    const Dims* const in[3] = {&dc, &dx, &dy};
    const ew::Loop<3> loop = ew::make_loop<3>(in, dout);
    const bool* c = data_as<const bool>(condition);
    const U* x = data_as<const U>(X);
    const U* y = data_as<const U>(Y);
    U* o = data_as<U>(output);
    ew::loop_all(loop, n, [&](const int64_t* off, const int64_t* st, int64_t pos, int64_t len) {
      where_run<U>(c + off[0], st[0], x + off[1], st[1], y + off[2], st[2], o + pos, len);
    });
    return XHAL_OK;
  });
}

template <class... Ts>
xhal_status_t register_types(const xhal_host_api_t* h, xhal_registry_t r) {
  xhal_status_t st = XHAL_OK;
  ((st = st != XHAL_OK
             ? st
             : xhal_register_where_v1(h, r, where_entry<Ts>, XHAL_DTYPE_BOOL, DType<Ts>::id, 0,
                                      "xhal.cpu.where")),
   ...);
  return st;
}

}  // namespace

xhal_status_t register_where_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  return register_types<float, double, Half, BFloat16, int8_t, uint8_t, int32_t, int64_t, bool>(h,
                                                                                              r);
}

}  // namespace xhal_cpu
