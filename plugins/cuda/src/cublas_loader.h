// cuBLAS, opened at run time. The plugin is compiled against cuBLAS's headers but does not link
// it: where the library is missing the plugin still loads and says why it has no devices.
// Search order: $XHAL_CUBLAS_LIBRARY (a path), NVIDIA's pip package beside this plugin
// (<site-packages>/nvidia/cu13/lib or nvidia/cublas/lib), then the loader's own search path.
#pragma once

#include <cublas_v2.h>

#include <string>

namespace xhal_cuda {

// cublasGemmEx and its batched form are overloaded in C++ (a legacy overload takes the compute
// type as cudaDataType_t): these name the cublasComputeType_t ones, and the static_asserts in
// cublas_loader.cpp check them against the header.
using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int,
                                    int, const void*, const void*, cudaDataType_t, int,
                                    const void*, cudaDataType_t, int, const void*, void*,
                                    cudaDataType_t, int, cublasComputeType_t, cublasGemmAlgo_t);
using GemmStridedBatchedExFn = cublasStatus_t (*)(
    cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*, const void*,
    cudaDataType_t, int, long long, const void*, cudaDataType_t, int, long long, const void*,
    void*, cudaDataType_t, int, long long, int, cublasComputeType_t, cublasGemmAlgo_t);

struct CublasApi {
  decltype(&cublasCreate_v2) create;
  decltype(&cublasDestroy_v2) destroy;
  decltype(&cublasSetStream_v2) set_stream;
  decltype(&cublasSetMathMode) set_math_mode;
  decltype(&cublasGetStatusString) status_string;
  GemmExFn gemm_ex;
  GemmStridedBatchedExFn gemm_strided_batched_ex;
  std::string path;  // the library that was opened
};

// The loaded API, or nullptr with `why` set (first call loads; thread-safe).
const CublasApi* cublas_api(std::string* why = nullptr);

// A cuBLAS handle for `device` owned by the calling thread (cuBLAS handles are not safe to share
// between threads), bound to `stream`, in the math mode of the precision setting. nullptr after
// reporting the failure through fail().
cublasHandle_t cublas_handle(int device, cudaStream_t stream);

// "CUBLAS_STATUS_...: message".
std::string cublas_error(cublasStatus_t status);

}  // namespace xhal_cuda
