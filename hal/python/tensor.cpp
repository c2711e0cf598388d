#include "tensor.h"

#include <cstring>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace xhal::python {

Storage::~Storage() {
  if (release) {
    release();
  } else if (ptr && device != kHostDevice) {
    xhal_device_free(runtime(), device, ptr);  // failure here has nobody to report to
  }
}

std::shared_ptr<TensorImpl> TensorImpl::empty(int32_t device, int32_t dtype,
                                              const std::vector<int64_t>& shape) {
  if (xhal_dtype_size(dtype) == 0) throw py::value_error("unknown dtype id " + std::to_string(dtype));
  for (int64_t d : shape)
    if (d < 0) throw py::value_error("negative dimension in shape");
  auto t = std::make_shared<TensorImpl>();
  t->device = device;
  t->dl = dl_device_of(device);
  t->dtype = dtype;
  t->shape = shape;
  t->storage = std::make_shared<Storage>();
  t->storage->device = device;
  t->storage->nbytes = t->nbytes();
  check(xhal_device_alloc(runtime(), device, t->storage->nbytes, &t->storage->ptr));
  return t;
}

int64_t TensorImpl::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<int64_t> TensorImpl::effective_strides() const {
  if (!strides.empty()) return strides;
  std::vector<int64_t> s(shape.size());
  int64_t step = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    s[i] = step;
    step *= shape[i];
  }
  return s;
}

bool TensorImpl::is_compact() const {
  if (strides.empty()) return true;
  int64_t expected = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

xhal_dl_device_t dl_device_of(int32_t device) {
  if (device == kHostDevice) return {XHAL_DL_CPU, 0};
  // Cached per device: properties never change once a plugin is loaded.
  static std::vector<xhal_dl_device_t> cache;
  if (device >= 0 && static_cast<size_t>(device) < cache.size() &&
      cache[device].device_type != 0)
    return cache[device];
  xhal_device_properties_t props;
  std::memset(&props, 0, sizeof(props));
  props.struct_size = sizeof(props);
  int32_t local = 0;
  check(xhal_device_properties(runtime(), device, &props));
  check(xhal_device_origin(runtime(), device, nullptr, &local, nullptr, nullptr));
  if (static_cast<size_t>(device) >= cache.size()) cache.resize(device + 1, {0, 0});
  cache[device] = {props.dlpack_device_type, local};
  return cache[device];
}

xhal_tensor_t TensorImpl::descriptor() const {
  xhal_tensor_t t;
  t.data = storage ? storage->ptr : nullptr;
  t.device = dl_device();
  t.ndim = static_cast<int32_t>(shape.size());
  t.dtype = xhal_dtype_to_dl(dtype);
  t.shape = const_cast<int64_t*>(shape.data());
  t.strides = strides.empty() ? nullptr : const_cast<int64_t*>(strides.data());
  t.byte_offset = byte_offset;
  return t;
}

namespace {

// The contiguous bytes of a C-contiguous numpy array.
py::buffer_info contiguous_buffer(const py::array& array) {
  if (!(array.flags() & py::array::c_style))
    throw py::value_error("array must be C-contiguous (use numpy.ascontiguousarray)");
  return array.request();
}

}  // namespace

void bind_tensor(py::module_& m) {
  py::class_<TensorImpl, std::shared_ptr<TensorImpl>> cls(m, "TensorImpl");
  cls.def_static("empty", &TensorImpl::empty, py::arg("device"), py::arg("dtype"),
                 py::arg("shape"))
      .def_static(
          "from_array",
          [](const py::array& array, int32_t device, int32_t dtype) {
            py::buffer_info buf = contiguous_buffer(array);
            std::vector<int64_t> shape(array.shape(), array.shape() + array.ndim());
            auto t = TensorImpl::empty(device, dtype, shape);
            if (static_cast<uint64_t>(buf.size * buf.itemsize) != t->nbytes())
              throw py::value_error("array byte size does not match dtype and shape");
            {
              py::gil_scoped_release release;
              check(xhal_copy_to_device(runtime(), device, t->storage->ptr, buf.ptr, t->nbytes()));
            }
            return t;
          },
          py::arg("array"), py::arg("device"), py::arg("dtype"),
          "Copy a C-contiguous array to `device` (blocking).")
      .def_static(
          "host_view",
          [](const py::array& array, int32_t dtype) {
            py::buffer_info buf = contiguous_buffer(array);
            auto t = std::make_shared<TensorImpl>();
            t->dtype = dtype;
            t->shape.assign(array.shape(), array.shape() + array.ndim());
            t->storage = std::make_shared<Storage>();
            t->storage->ptr = buf.ptr;
            t->storage->nbytes = buf.size * buf.itemsize;
            py::object keep = array;
            t->storage->release = [keep]() mutable {
              py::gil_scoped_acquire gil;
              keep = py::object();
            };
            return t;
          },
          py::arg("array"), py::arg("dtype"),
          "A host-memory view of a C-contiguous array (for host_memory inputs), no copy.")
      .def(
          "copy_to_array",
          [](const TensorImpl& self, py::array& out) {
            if (!self.is_compact()) throw py::value_error("tensor is strided; copy it compact first");
            py::buffer_info buf = out.request(true);
            if (!(out.flags() & py::array::c_style) ||
                static_cast<uint64_t>(buf.size * buf.itemsize) != self.nbytes())
              throw py::value_error("destination array must be C-contiguous with the same bytes");
            if (self.nbytes() == 0) return;
            const char* src = static_cast<const char*>(self.storage->ptr) + self.byte_offset;
            if (self.device == kHostDevice) {
              std::memcpy(buf.ptr, src, self.nbytes());
              return;
            }
            py::gil_scoped_release release;
            check(xhal_copy_to_host(runtime(), self.device, buf.ptr, src, self.nbytes()));
          },
          py::arg("out"), "Copy the tensor's bytes into `out` (blocking).")
      .def(
          "as_strided",
          [](const TensorImpl& self, const std::vector<int64_t>& shape,
             const std::vector<int64_t>& strides, uint64_t byte_offset) {
            if (shape.size() != strides.size())
              throw py::value_error("as_strided: shape has " + std::to_string(shape.size()) +
                                    " dimensions but strides " + std::to_string(strides.size()));
            const uint64_t item = static_cast<uint64_t>(xhal_dtype_size(self.dtype));
            bool empty = false;
            uint64_t last = 0;  // element index of the last element, from the view's start
            for (size_t i = 0; i < shape.size(); ++i) {
              if (shape[i] < 0 || strides[i] < 0)
                throw py::value_error("as_strided: negative size or stride at dimension " +
                                      std::to_string(i));
              if (shape[i] == 0) empty = true;
              else last += static_cast<uint64_t>(shape[i] - 1) * static_cast<uint64_t>(strides[i]);
            }
            const uint64_t capacity = self.storage ? self.storage->nbytes : 0;
            if (!empty && byte_offset + (last + 1) * item > capacity)
              throw py::value_error("as_strided: the view reaches byte " +
                                    std::to_string(byte_offset + (last + 1) * item) +
                                    " of a buffer of " + std::to_string(capacity) + " bytes");
            auto t = std::make_shared<TensorImpl>(self);  // shares the storage
            t->shape = shape;
            t->strides = strides;
            t->byte_offset = byte_offset;
            return t;
          },
          py::arg("shape"), py::arg("strides"), py::arg("byte_offset"),
          "A view of the same memory with other sizes, element strides and byte offset.")
      .def_property_readonly("shape", [](const TensorImpl& t) { return py::tuple(py::cast(t.shape)); })
      .def_property_readonly("strides", [](const TensorImpl& t) { return py::tuple(py::cast(t.effective_strides())); })
      .def_readonly("dtype", &TensorImpl::dtype)
      .def_readonly("device", &TensorImpl::device)
      .def_readonly("byte_offset", &TensorImpl::byte_offset)
      .def_property_readonly("nbytes", &TensorImpl::nbytes)
      .def_property_readonly("is_compact", &TensorImpl::is_compact)
      .def_property_readonly("data_ptr", [](const TensorImpl& t) {
        return reinterpret_cast<uintptr_t>(t.storage ? t.storage->ptr : nullptr) + t.byte_offset;
      });
  bind_dlpack(m, cls);
}

}  // namespace xhal::python
