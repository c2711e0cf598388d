// Spatial geometry shared by the CUDA pool, conv and conv_transpose kernels: the SDK kit's
// (<xhal/kit/conv_geometry.h>, ONNX convPoolShapeInference and ConvTranspose's rules), the same
// code the CPU plugin runs. Geom is passed to the kernels by value.
#pragma once

#include <xhal/kit/conv_geometry.h>

#include <string>

#include "support.h"

namespace xhal_cuda {
namespace convg {

using Geom = xhal::kit::ConvGeometry;

// A kit result as this plugin's error: "<op>: <message>".
inline xhal_status_t kit_status(const char* op, xhal_status_t status, const std::string& error) {
  return status == XHAL_OK ? XHAL_OK : fail(status, "%s: %s", op, error.c_str());
}

}  // namespace convg
}  // namespace xhal_cuda
