// float32 convolution as an implicit GEMM with an AVX-512 micro-kernel (stride 1 or several
// taps: read in place from the padded input, vectorised over positions or, for small outputs
// with many channels, over output channels; else im2col packed per column block), threaded over
// the plugin's pool. conv.cpp uses it for float32, float16 and bfloat16 (computed in float32) when
// the CPU has AVX-512F and XHAL_CPU_ISA allows it.
#pragma once

#include <cstdint>

#include "conv_common.h"

namespace xhal_cpu {
namespace convk {

// True when conv_gemm_f32 can run here (AVX-512F, and vec::isa_name() is "avx512").
bool conv_gemm_f32_available();

// One image and group: y[M, out_size] = w[M, channels * k_size] * im2col(x) + bias (bias of M
// values, or null for none). x is [channels, in...] of geometry g. Overwrites y.
void conv_gemm_f32(const Geom& g, int64_t channels, int64_t M, const float* x, const float* w,
                   const float* bias, float* y);

}  // namespace convk
}  // namespace xhal_cpu
