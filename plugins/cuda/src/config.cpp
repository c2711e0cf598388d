#include "config.h"

#include <cstdlib>
#include <cstring>

#include <xhal/xhal_abi.h>

#include "host.h"

namespace xhal_cuda {

bool allow_tf32() {
  static const bool tf32 = [] {
    const char* v = std::getenv("XHAL_CUDA_PRECISION");
    if (v == nullptr || *v == '\0' || std::strcmp(v, "highest") == 0) return false;
    if (std::strcmp(v, "tf32") == 0) return true;
    log(XHAL_LOG_WARNING, "XHAL_CUDA_PRECISION='%s' is not 'highest' or 'tf32'; using highest", v);
    return false;
  }();
  return tf32;
}

}  // namespace xhal_cuda
