// The loops of vec_math.cpp, written once over a small set of vector primitives and included
// once per instruction set (inside that set's namespace and `#pragma GCC target` region).
// The including namespace provides:
//   V, W (lanes), vset, vload, vstore, vload_part / vstore_part (the first rem < W lanes),
//   vkeep (zero lanes >= rem), vadd, vsub, vmul, vdiv, vfma (a * b + c), vmax (NaN in the first
//   operand keeps the second), vneg_abs, vexp, vexp_nonpos (for x <= 0 or NaN), vselect_ge0
//   (x >= 0 ? a : b), vhmax,
//   DAcc with dacc_zero, dacc_set, dacc_plus, dacc_add (adds V's lanes in float64), dacc_add_sq
//   (adds (v - c)^2 in float64) and dacc_sum,
//   vstream (store to a W-float aligned address past the caches) and vstream_fence.
// No include guard: included several times on purpose.

// Lanes are summed in float32 over blocks of kSumBlock elements, then added in float64.
constexpr int64_t kSumBlock = 32 * W;

inline void exp_n(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const V a = vload(x + i), b = vload(x + i + W);
    vstore(y + i, vexp(a));
    vstore(y + i + W, vexp(b));
  }
  for (; i + W <= n; i += W) vstore(y + i, vexp(vload(x + i)));
  if (i < n) vstore_part(y + i, n - i, vexp(vload_part(x + i, n - i, 0.f)));
}

// 1 / (1 + e) for x >= 0 and e / (1 + e) below, e = exp(-|x|): no overflow; NaN propagates.
inline V vsigmoid(V x) {
  const V e = vexp(vneg_abs(x));
  const V r = vdiv(vset(1.f), vadd(vset(1.f), e));
  return vselect_ge0(x, r, vmul(e, r));
}

inline void sigmoid_n(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const V a = vload(x + i), b = vload(x + i + W);
    vstore(y + i, vsigmoid(a));
    vstore(y + i + W, vsigmoid(b));
  }
  for (; i + W <= n; i += W) vstore(y + i, vsigmoid(vload(x + i)));
  if (i < n) vstore_part(y + i, n - i, vsigmoid(vload_part(x + i, n - i, 0.f)));
}

// Largest of n >= 1 values. A NaN may be skipped, but it reaches the sum of exponentials, so
// the row still becomes NaN.
inline float row_max(const float* x, int64_t n) {
  const float lowest = -__builtin_inff();
  V m0 = vset(lowest), m1 = m0, m2 = m0, m3 = m0;
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    m0 = vmax(vload(x + i), m0);
    m1 = vmax(vload(x + i + W), m1);
    m2 = vmax(vload(x + i + 2 * W), m2);
    m3 = vmax(vload(x + i + 3 * W), m3);
  }
  for (; i + W <= n; i += W) m0 = vmax(vload(x + i), m0);
  if (i < n) m1 = vmax(vload_part(x + i, n - i, lowest), m1);
  return vhmax(vmax(vmax(m0, m1), vmax(m2, m3)));
}

// sum(exp(x - m)), storing the exponentials to y when kStore.
template <bool kStore>
inline double exp_sum(const float* x, float m, float* y, int64_t n) {
  const V vm = vset(m);
  DAcc total = dacc_zero();
  for (int64_t b0 = 0; b0 < n; b0 += kSumBlock) {
    const int64_t end = b0 + kSumBlock < n ? b0 + kSumBlock : n;
    V a0 = vset(0.f), a1 = vset(0.f);
    int64_t i = b0;
    for (; i + 2 * W <= end; i += 2 * W) {
      const V e0 = vexp_nonpos(vsub(vload(x + i), vm));
      const V e1 = vexp_nonpos(vsub(vload(x + i + W), vm));
      if constexpr (kStore) {
        vstore(y + i, e0);
        vstore(y + i + W, e1);
      }
      a0 = vadd(a0, e0);
      a1 = vadd(a1, e1);
    }
    for (; i + W <= end; i += W) {
      const V e = vexp_nonpos(vsub(vload(x + i), vm));
      if constexpr (kStore) vstore(y + i, e);
      a0 = vadd(a0, e);
    }
    if (i < end) {
      const V e = vexp_nonpos(vsub(vload_part(x + i, end - i, 0.f), vm));
      if constexpr (kStore) vstore_part(y + i, end - i, e);
      a1 = vadd(a1, vkeep(e, end - i));
    }
    dacc_add(total, vadd(a0, a1));
  }
  return dacc_sum(total);
}

// y = x * s (softmax) or y = (x - m) - s (log_softmax); y may be x.
template <bool kLog>
inline void finish_row(const float* x, float* y, int64_t n, float m, float s) {
  const V vm = vset(m), vs = vset(s);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    const V v = vload(x + i);
    vstore(y + i, kLog ? vsub(vsub(v, vm), vs) : vmul(v, vs));
  }
  if (i < n) {
    const V v = vload_part(x + i, n - i, 0.f);
    vstore_part(y + i, n - i, kLog ? vsub(vsub(v, vm), vs) : vmul(v, vs));
  }
}

inline void softmax_row(const float* x, float* y, int64_t n) {
  const float m = row_max(x, n);
  const double sum = exp_sum<true>(x, m, y, n);
  finish_row<false>(y, y, n, 0.f, static_cast<float>(1.0 / sum));
}

inline void log_softmax_row(const float* x, float* y, int64_t n) {
  const float m = row_max(x, n);
  const double sum = exp_sum<false>(x, m, nullptr, n);
  finish_row<true>(x, y, n, m, static_cast<float>(std::log(sum)));
}

// sum(x) (kSquares false) or sum((x - c)^2) (true) in float64: each vector widened to float64
// lanes; four accumulators so the adds are not one latency-bound chain.
template <bool kSquares>
inline double wide_sum(const float* x, int64_t n, double c) {
  const DAcc vc = dacc_set(c);
  DAcc a0 = dacc_zero(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  if constexpr (kSquares) {
    for (; i + 4 * W <= n; i += 4 * W) {
      dacc_add_sq(a0, vload(x + i), vc);
      dacc_add_sq(a1, vload(x + i + W), vc);
      dacc_add_sq(a2, vload(x + i + 2 * W), vc);
      dacc_add_sq(a3, vload(x + i + 3 * W), vc);
    }
    for (; i + W <= n; i += W) dacc_add_sq(a0, vload(x + i), vc);
  } else {
    for (; i + 4 * W <= n; i += 4 * W) {
      dacc_add(a0, vload(x + i));
      dacc_add(a1, vload(x + i + W));
      dacc_add(a2, vload(x + i + 2 * W));
      dacc_add(a3, vload(x + i + 3 * W));
    }
    for (; i + W <= n; i += W) dacc_add(a0, vload(x + i));
  }
  double total = dacc_sum(dacc_plus(dacc_plus(a0, a1), dacc_plus(a2, a3)));
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    total += kSquares ? (v - c) * (v - c) : v;
  }
  return total;
}

// sum(x) and sum(x^2) in float64 in one pass (x^2 of a float32 is exact in float64).
inline void sum_and_squares(const float* x, int64_t n, double* sum, double* squares) {
  DAcc s0 = dacc_zero(), s1 = s0, q0 = s0, q1 = s0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    dacc_add_both(s0, q0, vload(x + i));
    dacc_add_both(s1, q1, vload(x + i + W));
  }
  for (; i + W <= n; i += W) dacc_add_both(s0, q0, vload(x + i));
  double s = dacc_sum(dacc_plus(s0, s1)), q = dacc_sum(dacc_plus(q0, q1));
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]);
    s += v;
    q += v * v;
  }
  *sum = s;
  *squares = q;
}

// Mean and variance with float64 sums (the spec's). One pass gives sum(x) and sum(x^2); the
// variance sum(x^2) / n - mean^2 is kept when it is at least 1e-3 mean^2, where its relative
// error is below 1e3 * n * 2^-53. Otherwise (a mean large next to the spread, a constant row,
// NaN or Inf) a second pass sums (x - mean)^2, as norm_common.h's row_moments does.
inline void layer_norm_row(const float* x, int64_t n, double epsilon, const float* scale,
                           const float* bias, float* y, double* mean_out, double* rstd_out) {
  const double dn = static_cast<double>(n);
  double sum, squares;
  sum_and_squares(x, n, &sum, &squares);
  const double mean = sum / dn;
  double var = squares / dn - mean * mean;
  if (!(var >= 1e-3 * (mean * mean))) var = wide_sum<true>(x, n, mean) / dn;
  const double rstd = 1.0 / std::sqrt(var + epsilon);
  *mean_out = mean;
  *rstd_out = rstd;
  // ((x - mean) * rstd) * scale + bias: the reference's order, no fused multiply-add, so an
  // extreme scale overflows where the reference's does.
  const V vmean = vset(static_cast<float>(mean)), vrstd = vset(static_cast<float>(rstd));
  int64_t i = 0;
  for (; i + W <= n; i += W)
    vstore(y + i, vadd(vmul(vmul(vsub(vload(x + i), vmean), vrstd), vload(scale + i)),
                       vload(bias + i)));
  if (i < n) {
    const int64_t rem = n - i;
    const V v = vmul(vmul(vsub(vload_part(x + i, rem, 0.f), vmean), vrstd),
                     vload_part(scale + i, rem, 0.f));
    vstore_part(y + i, rem, vadd(v, vload_part(bias + i, rem, 0.f)));
  }
}

// y[i] = f(x[i]) from registers straight to memory: plain stores up to the first aligned vector
// of y and for the tail, streaming stores between, fenced at the end.
template <class Fn>
inline void map_streamed(const float* x, float* y, int64_t n, Fn f) {
  constexpr int64_t kAlign = W * static_cast<int64_t>(sizeof(float));
  const int64_t misaligned = static_cast<int64_t>(reinterpret_cast<uintptr_t>(y) % kAlign);
  int64_t i = misaligned == 0 ? 0 : std::min<int64_t>(n, (kAlign - misaligned) / 4);
  if (i > 0) vstore_part(y, i, f(vload_part(x, i, 0.f)));
  for (; i + W <= n; i += W) vstream(y + i, f(vload(x + i)));
  if (i < n) vstore_part(y + i, n - i, f(vload_part(x + i, n - i, 0.f)));
  vstream_fence();
}

// relu without a bounce buffer: a buffer and a separate streaming copy measured 1.2-1.3x slower
// at 2 threads (1e6-1e7 elements), as the extra pass competes with the stream.
inline void relu_stream_n(const float* x, float* y, int64_t n) {
  // vmax keeps its second operand for NaN and for equal zeros: NaN and -0 pass, as x < 0 ? 0 : x.
  struct Relu {
    V zero;
    V operator()(V v) const { return vmax(zero, v); }
  };
  map_streamed(x, y, n, Relu{vset(0.f)});
}

inline void exp_stream_n(const float* x, float* y, int64_t n) {
  struct Exp {
    V operator()(V v) const { return vexp(v); }
  };
  map_streamed(x, y, n, Exp{});
}

inline void stream_lines(void* dst, const void* src, int64_t bytes) {
  auto* d = static_cast<float*>(dst);
  const auto* s = static_cast<const float*>(src);
  for (int64_t i = 0; i < bytes / 4; i += W) vstream(d + i, vload(s + i));
}
