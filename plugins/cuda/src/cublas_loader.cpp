#include "cublas_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "config.h"
#include "host.h"

#ifndef XHAL_CUBLAS_SONAME
#define XHAL_CUBLAS_SONAME "libcublas.so.13"
#endif
#ifndef XHAL_CUDA_WHEEL_DIR
#define XHAL_CUDA_WHEEL_DIR "cu13"
#endif

namespace xhal_cuda {
namespace {

std::string plugin_dir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&plugin_dir), &info) == 0 || info.dli_fname == nullptr)
    return std::string();
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The overloads named by GemmExFn / GemmStridedBatchedExFn exist with exactly these types.
[[maybe_unused]] constexpr GemmExFn kGemmExCheck = &cublasGemmEx;
[[maybe_unused]] constexpr GemmStridedBatchedExFn kGemmStridedBatchedExCheck =
    &cublasGemmStridedBatchedEx;

template <class Fn>
bool bind(void* lib, const char* name, Fn* fn, std::string* missing) {
  *fn = reinterpret_cast<Fn>(dlsym(lib, name));  // POSIX: object and function pointers convert
  if (*fn == nullptr) *missing += std::string(missing->empty() ? "" : ", ") + name;
  return *fn != nullptr;
}

struct Loaded {
  CublasApi api{};
  bool ok = false;
  std::string why;
};

Loaded load() {
  Loaded out;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("XHAL_CUBLAS_LIBRARY"); env != nullptr && *env)
    candidates.push_back(env);
  const std::string here = plugin_dir();  // <site-packages>/xhal/plugins
  if (!here.empty()) {
    candidates.push_back(here + "/../../nvidia/" XHAL_CUDA_WHEEL_DIR "/lib/" XHAL_CUBLAS_SONAME);
    candidates.push_back(here + "/../../nvidia/cublas/lib/" XHAL_CUBLAS_SONAME);
  }
  candidates.push_back(XHAL_CUBLAS_SONAME);
  std::string errors;
  void* lib = nullptr;
  for (const std::string& c : candidates) {
    lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib != nullptr) {
      out.api.path = c;
      break;
    }
    const char* e = dlerror();
    if (c == candidates.back()) errors = e ? e : "not found";
  }
  if (lib == nullptr) {
    out.why = "cuBLAS (" XHAL_CUBLAS_SONAME ") not found: install NVIDIA's package with "
              "'pip install \"xhal[cuda]\"' (nvidia-cublas), or set XHAL_CUBLAS_LIBRARY (" +
              errors + ")";
    return out;
  }
  std::string missing;
  bind(lib, "cublasCreate_v2", &out.api.create, &missing);
  bind(lib, "cublasDestroy_v2", &out.api.destroy, &missing);
  bind(lib, "cublasSetStream_v2", &out.api.set_stream, &missing);
  bind(lib, "cublasSetMathMode", &out.api.set_math_mode, &missing);
  bind(lib, "cublasGetStatusString", &out.api.status_string, &missing);
  bind(lib, "cublasGemmEx", &out.api.gemm_ex, &missing);
  bind(lib, "cublasGemmStridedBatchedEx", &out.api.gemm_strided_batched_ex, &missing);
  if (!missing.empty()) {
    out.why = out.api.path + " lacks " + missing;
    return out;  // the library stays open: it is harmless and dlclose of cuBLAS is not
  }
  out.ok = true;
  return out;
}

const Loaded& loaded() {
  static const Loaded l = load();
  return l;
}

// One handle per (thread, device). Never destroyed: a thread_local destructor runs at process
// exit, possibly after the driver has shut down, where cublasDestroy can crash (PyTorch leaks its
// handles for the same reason). A handle is a few KiB of host memory plus a small workspace.
struct ThreadHandles {
  std::vector<cublasHandle_t> handles;
};

}  // namespace

const CublasApi* cublas_api(std::string* why) {
  const Loaded& l = loaded();
  if (!l.ok && why != nullptr) *why = l.why;
  return l.ok ? &l.api : nullptr;
}

std::string cublas_error(cublasStatus_t status) {
  const CublasApi* api = cublas_api();
  const char* text = api != nullptr ? api->status_string(status) : nullptr;
  return "cuBLAS status " + std::to_string(static_cast<int>(status)) +
         (text != nullptr ? std::string(": ") + text : std::string());
}

cublasHandle_t cublas_handle(int device, cudaStream_t stream) {
  std::string why;
  const CublasApi* api = cublas_api(&why);
  if (api == nullptr) {
    fail(XHAL_ERROR_UNSUPPORTED, "%s", why.c_str());
    return nullptr;
  }
  thread_local ThreadHandles mine;
  if (device < 0) {
    fail(XHAL_ERROR_INVALID_ARGUMENT, "cuBLAS: device %d does not exist", device);
    return nullptr;
  }
  if (static_cast<size_t>(device) >= mine.handles.size()) mine.handles.resize(device + 1, nullptr);
  cublasHandle_t& h = mine.handles[device];
  if (h == nullptr) {
    const cublasStatus_t st = api->create(&h);
    if (st != CUBLAS_STATUS_SUCCESS) {
      h = nullptr;
      fail(XHAL_ERROR_DEVICE, "cublasCreate on device %d: %s", device, cublas_error(st).c_str());
      return nullptr;
    }
    // TF32 only when the precision setting asks for it (config.h).
    api->set_math_mode(h, allow_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
  }
  const cublasStatus_t st = api->set_stream(h, stream);
  if (st != CUBLAS_STATUS_SUCCESS) {
    fail(XHAL_ERROR_DEVICE, "cublasSetStream: %s", cublas_error(st).c_str());
    return nullptr;
  }
  return h;
}

}  // namespace xhal_cuda
