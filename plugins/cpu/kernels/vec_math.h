// Hand-vectorised float32 loops for the transcendental-heavy kernels (exp, sigmoid, softmax,
// log_softmax, layer_normalization), and streaming-store loops (relu, exp, and the block copy
// of stream_store.h), which the compiler does not write by itself. vec_math.cpp compiles each
// loop for AVX-512F, for AVX2+FMA and for baseline x86-64 (one lane, the scalar exp_f32), and
// picks one once, at the first call, from the running CPU (__builtin_cpu_supports).
//
// XHAL_CPU_ISA=avx512|avx2|baseline caps the choice (an unknown value is ignored with a
// warning); tests use it to run every path on one machine.
//
// Accuracy: exp within 2 ulp of the exact result for every float32 input on every path (the
// vector paths: 1.06 ulp at worst over all 2^32 inputs), sigmoid within 3 ulp: subnormal results
// correctly scaled, overflow +Inf, underflow 0, NaN propagates. softmax's exp(x - max) uses a
// shorter polynomial (about 2 ulp; the softmax tolerances are 1e-5). Softmax sums are float32
// lanes over blocks of a few hundred elements added in float64; layer normalisation sums in
// float64 lanes throughout.
#pragma once

#include <cstdint>

namespace xhal_cpu {
namespace vec {

// y[i] = exp(x[i]); y may be x.
void exp_n(const float* x, float* y, int64_t n);

// y[i] = 1 / (1 + exp(-x[i])), from exp(-|x|) so nothing overflows; y may be x.
void sigmoid_n(const float* x, float* y, int64_t n);

// One row of n >= 1 elements: y = exp(x - max) / sum(exp(x - max)); y may be x. A row holding
// NaN, +Inf or only -Inf gives NaN, as the reference does.
void softmax_row(const float* x, float* y, int64_t n);

// y = (x - max) - log(sum(exp(x - max))); y may be x.
void log_softmax_row(const float* x, float* y, int64_t n);

// One layer-normalisation row of n >= 1 elements: mean and variance with float64 sums (one pass,
// or two where the mean dominates the spread), y = ((x - mean) * rstd) * scale + bias, with
// scale and bias of n elements; y may be x.
// Writes the mean and 1 / sqrt(var + epsilon).
void layer_norm_row(const float* x, int64_t n, double epsilon, const float* scale,
                    const float* bias, float* y, double* mean, double* rstd);

// y[i] = x[i] < 0 ? 0 : x[i] (NaN and -0 pass through), and y[i] = exp(x[i]) as exp_n, with
// streaming stores: each vector goes from a register straight to memory, whole cache lines at a
// time, past the caches (plain stores for the unaligned ends; the baseline path stores plainly).
// The stores are fenced on return. For outputs that outgrow the caches (stream_store.h).
void relu_stream_n(const float* x, float* y, int64_t n);
void exp_stream_n(const float* x, float* y, int64_t n);

// Copies whole 64-byte lines, `bytes` of them in all, from src to the 64-byte aligned dst with
// streaming stores (the caller fences). The baseline path copies plainly.
void stream_lines(void* dst, const void* src, int64_t bytes);

// The instruction set the loops above use: "avx512", "avx2" or "baseline".
const char* isa_name();

}  // namespace vec
}  // namespace xhal_cpu
