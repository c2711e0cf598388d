// The tensor behind xhal.Tensor: a DLPack-shaped view (shape, strides, byte offset, dtype) of
// a Storage, which owns either device memory from the caching allocator or memory lent by a
// DLPack producer (released through the producer's deleter).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <xhal/xhal_runtime.h>

namespace xhal::python {

xhal_runtime_t runtime();  // the process-wide runtime (module.cpp)

// Raise the xhal.errors exception for `status` with xhal_last_error() as its message.
[[noreturn]] void raise_status(xhal_status_t status, const std::string& context = "");
inline void check(xhal_status_t status, const std::string& context = "") {
  if (status != XHAL_OK) raise_status(status, context);
}

constexpr int32_t kHostDevice = -1;  // memory that is plain host memory (numpy), not a device's

struct Storage {
  int32_t device = kHostDevice;
  void* ptr = nullptr;
  uint64_t nbytes = 0;
  std::function<void()> release;  // set for borrowed memory; otherwise freed to the allocator
  ~Storage();
};

class TensorImpl {
 public:
  std::shared_ptr<Storage> storage;
  int32_t device = kHostDevice;
  int32_t dtype = XHAL_DTYPE_UNDEFINED;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // elements; empty = compact row-major
  uint64_t byte_offset = 0;
  xhal_dl_device_t dl = {XHAL_DL_CPU, 0};  // the DLPack device, looked up once

  static std::shared_ptr<TensorImpl> empty(int32_t device, int32_t dtype,
                                           const std::vector<int64_t>& shape);
  int64_t numel() const;
  uint64_t nbytes() const { return static_cast<uint64_t>(numel()) * xhal_dtype_size(dtype); }
  bool is_compact() const;
  std::vector<int64_t> effective_strides() const;  // compact strides when `strides` is empty
  // A descriptor pointing into this object's vectors (valid while this object lives).
  xhal_tensor_t descriptor() const;
  xhal_dl_device_t dl_device() const { return dl; }
};

// The DLPack (device type, id) of global device `device` (kHostDevice: the host CPU).
xhal_dl_device_t dl_device_of(int32_t device);

void bind_tensor(pybind11::module_& m);
void bind_fast_op(pybind11::module_& m);
void bind_dlpack(pybind11::module_& m, pybind11::class_<TensorImpl, std::shared_ptr<TensorImpl>>& cls);

}  // namespace xhal::python
