// add, sub, mul, div: elementwise with multidirectional (NumPy) broadcasting.
// float32/float64 compute natively, float16 in float32, int32/int64 wrap around (computed in the
// unsigned type); integer division truncates toward zero, and x/0 gives 0 and INT_MIN/-1 gives
// INT_MIN instead of trapping.
#include <algorithm>
#include <type_traits>

#include "common.h"
#include "kernels.h"

namespace xhal_cpu {
namespace {

struct AddOp {
  static constexpr const char* name = "add";
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>)
      return wrap_add(a, b);
    else
      return a + b;
  }
};

struct SubOp {
  static constexpr const char* name = "sub";
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>)
      return wrap_sub(a, b);
    else
      return a - b;
  }
};

struct MulOp {
  static constexpr const char* name = "mul";
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>)
      return wrap_mul(a, b);
    else
      return a * b;
  }
};

struct DivOp {
  static constexpr const char* name = "div";
  template <class T>
  static T apply(T a, T b) {
    if constexpr (std::is_integral_v<T>) {
      // The two cases that trap on x86 (SIGFPE): division by zero (undefined by the spec; we
      // give 0) and INT_MIN / -1 (wraps to INT_MIN, which is -a in two's complement).
      if (b == 0) return 0;
      if (b == -1) return wrap_sub(T(0), a);
      return a / b;
    } else {
      return a / b;
    }
  }
};

// c[i] = op(a[i * sa], b[i * sb]) for i < n, with sa and sb each 0 (broadcast) or 1. The four
// stride cases get their own loop so each one vectorises.
template <class Op, class T>
XHAL_CPU_SIMD_CLONES void run_contiguous(const T* a, int64_t sa, const T* b, int64_t sb, T* c,
                                         int64_t n) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) c[i] = Op::apply(a[i], b[i]);
  } else if (sa == 0 && sb == 1) {
    const T x = a[0];
    for (int64_t i = 0; i < n; ++i) c[i] = Op::apply(x, b[i]);
  } else if (sa == 1 && sb == 0) {
    const T y = b[0];
    for (int64_t i = 0; i < n; ++i) c[i] = Op::apply(a[i], y);
  } else {
    const T v = Op::apply(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) c[i] = v;
  }
}

// float16: convert a block to float32, compute, convert back.
template <class Op>
void run_contiguous_half(const Half* a, int64_t sa, const Half* b, int64_t sb, Half* c, int64_t n) {
  constexpr int64_t kBlock = 512;
  float fa[kBlock], fb[kBlock], fc[kBlock];
  for (int64_t off = 0; off < n; off += kBlock) {
    const int64_t m = std::min(kBlock, n - off);
    if (sa)
      half_to_float_n(a + off, fa, m);
    else
      fa[0] = half_to_float(a[0].bits);
    if (sb)
      half_to_float_n(b + off, fb, m);
    else
      fb[0] = half_to_float(b[0].bits);
    run_contiguous<Op, float>(fa, sa, fb, sb, fc, m);
    float_to_half_n(fc, c + off, m);
  }
}

template <class Op, class T>
void run_run(const T* a, int64_t sa, const T* b, int64_t sb, T* c, int64_t n) {
  if constexpr (std::is_same_v<T, Half>)
    run_contiguous_half<Op>(a, sa, b, sb, c, n);
  else
    run_contiguous<Op, T>(a, sa, b, sb, c, n);
}

// The broadcast as a loop nest over the output: dims (outermost first) with the element
// strides of A and B (0 where broadcast). Size-1 dims are dropped and neighbours that step
// through both inputs alike are merged, so same-shape and scalar cases become one flat run.
struct BroadcastLoop {
  int rank = 0;
  int64_t dims[kMaxRank];
  int64_t sa[kMaxRank];
  int64_t sb[kMaxRank];
};

BroadcastLoop make_loop(const Dims& da, const Dims& db, const Dims& dc) {
  int64_t sa[kMaxRank], sb[kMaxRank];
  broadcast_strides(da, dc, sa);
  broadcast_strides(db, dc, sb);
  BroadcastLoop l;
  for (int i = 0; i < dc.rank; ++i) {
    if (dc[i] == 1) continue;
    const int j = l.rank - 1;
    if (j >= 0 && l.sa[j] == sa[i] * dc[i] && l.sb[j] == sb[i] * dc[i]) {
      l.dims[j] *= dc[i];  // outer dim j steps exactly over inner dim i: merge them
      l.sa[j] = sa[i];
      l.sb[j] = sb[i];
      continue;
    }
    l.dims[l.rank] = dc[i];
    l.sa[l.rank] = sa[i];
    l.sb[l.rank] = sb[i];
    ++l.rank;
  }
  if (l.rank == 0) {  // every dim is 1 (or rank 0): one element
    l.rank = 1;
    l.dims[0] = 1;
    l.sa[0] = l.sb[0] = 0;
  }
  return l;
}

// Computes output elements [begin, end) of the loop nest.
template <class Op, class T>
void run_range(const BroadcastLoop& l, const T* a, const T* b, T* c, int64_t begin, int64_t end) {
  const int r = l.rank;
  int64_t idx[kMaxRank];
  int64_t rem = begin, off_a = 0, off_b = 0;
  for (int d = r - 1; d >= 0; --d) {
    idx[d] = rem % l.dims[d];
    rem /= l.dims[d];
    off_a += idx[d] * l.sa[d];
    off_b += idx[d] * l.sb[d];
  }
  const int64_t inner = l.dims[r - 1];
  for (int64_t pos = begin; pos < end;) {
    const int64_t len = std::min(inner - idx[r - 1], end - pos);
    run_run<Op, T>(a + off_a, l.sa[r - 1], b + off_b, l.sb[r - 1], c + pos, len);
    pos += len;
    idx[r - 1] += len;
    off_a += len * l.sa[r - 1];
    off_b += len * l.sb[r - 1];
    // Carry into the outer dims once the innermost run is complete.
    for (int d = r - 1; d > 0 && idx[d] == l.dims[d]; --d) {
      off_a -= idx[d] * l.sa[d];
      off_b -= idx[d] * l.sb[d];
      idx[d] = 0;
      ++idx[d - 1];
      off_a += l.sa[d - 1];
      off_b += l.sb[d - 1];
    }
  }
}

template <class Op, class T>
xhal_status_t binary_kernel(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                            const xhal_tensor_t* B, xhal_tensor_t* C) {
  return guarded(Op::name, [&] {
    constexpr int32_t dt = DType<T>::id;
    XHAL_CPU_TRY(check_context(Op::name, ctx));
    XHAL_CPU_TRY(check_tensor(Op::name, "input A", A, dt));
    XHAL_CPU_TRY(check_tensor(Op::name, "input B", B, dt));
    XHAL_CPU_TRY(check_tensor(Op::name, "output C", C, dt));
    const Dims da = dims_of(A), db = dims_of(B), dc = dims_of(C);
    Dims expect;
    if (!broadcast_dims(da, db, &expect))
      return fail(XHAL_ERROR_INVALID_ARGUMENT, "%s: shapes %s and %s do not broadcast", Op::name,
                  to_string(da).c_str(), to_string(db).c_str());
    if (expect != dc)
      return fail(XHAL_ERROR_INVALID_ARGUMENT,
                  "%s: output C has shape %s but A %s and B %s broadcast to %s", Op::name,
                  to_string(dc).c_str(), to_string(da).c_str(), to_string(db).c_str(),
                  to_string(expect).c_str());
    const int64_t n = dc.numel();
    if (n == 0) return XHAL_OK;
    const BroadcastLoop loop = make_loop(da, db, dc);
    const T* a = data_as<const T>(A);
    const T* b = data_as<const T>(B);
    T* c = data_as<T>(C);
    parallel_for(n, kParallelGrain,
                 [&](int64_t begin, int64_t end) { run_range<Op, T>(loop, a, b, c, begin, end); });
    return XHAL_OK;
  });
}

// The typed entry points the generated signatures expect.
template <class Op, class T, class Attrs>
xhal_status_t binary_entry(const xhal_kernel_context_t* ctx, const xhal_tensor_t* A,
                           const xhal_tensor_t* B, const Attrs* /*attrs: none*/, xhal_tensor_t* C) {
  return binary_kernel<Op, T>(ctx, A, B, C);
}

template <class T>
xhal_status_t register_dtype(const xhal_host_api_t* h, xhal_registry_t r) {
  constexpr int32_t dt = DType<T>::id;
  XHAL_CPU_TRY(xhal_register_add_v1(h, r, binary_entry<AddOp, T, xhal_add_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.add"));
  XHAL_CPU_TRY(xhal_register_sub_v1(h, r, binary_entry<SubOp, T, xhal_sub_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.sub"));
  XHAL_CPU_TRY(xhal_register_mul_v1(h, r, binary_entry<MulOp, T, xhal_mul_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.mul"));
  XHAL_CPU_TRY(xhal_register_div_v1(h, r, binary_entry<DivOp, T, xhal_div_v1_attrs_t>, dt, 0,
                                    "xhal.cpu.div"));
  return XHAL_OK;
}

}  // namespace

xhal_status_t register_binary_kernels(const xhal_host_api_t* h, xhal_registry_t r) {
  XHAL_CPU_TRY(register_dtype<float>(h, r));
  XHAL_CPU_TRY(register_dtype<double>(h, r));
  XHAL_CPU_TRY(register_dtype<Half>(h, r));
  XHAL_CPU_TRY(register_dtype<int32_t>(h, r));
  XHAL_CPU_TRY(register_dtype<int64_t>(h, r));
  return XHAL_OK;
}

}  // namespace xhal_cpu
