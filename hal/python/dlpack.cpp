// DLPack exchange (the Python array-API protocol): __dlpack__/__dlpack_device__ on tensors and
// import of a producer's capsule, both without copying. The structs below are written from the
// DLPack specification (v1.0); xhal_tensor_t already has DLTensor's layout.
#include <cstring>

#include <pybind11/stl.h>

#include "tensor.h"

namespace py = pybind11;

namespace xhal::python {
namespace {

struct DLManagedTensor {
  xhal_tensor_t dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};

struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};

struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  xhal_tensor_t dl_tensor;
};

constexpr uint64_t kFlagReadOnly = 1ull << 0;
constexpr const char* kLegacyName = "dltensor";
constexpr const char* kVersionedName = "dltensor_versioned";
constexpr const char* kUsedLegacyName = "used_dltensor";
constexpr const char* kUsedVersionedName = "used_dltensor_versioned";

// What an exported capsule keeps alive: the tensor (and so its storage) and its dims.
struct ExportContext {
  std::shared_ptr<TensorImpl> tensor;
  std::vector<int64_t> shape, strides;
};

template <typename Managed>
void delete_managed(Managed* self) {
  delete static_cast<ExportContext*>(self->manager_ctx);
  delete self;
}

// Deleters may run on any thread and without the GIL; releasing a shared_ptr<TensorImpl>
// may free device memory, which needs no Python state, except host views (which take the GIL).
template <typename Managed>
void fill(Managed* m, const std::shared_ptr<TensorImpl>& t) {
  auto* ctx = new ExportContext{t, t->shape, t->effective_strides()};
  m->manager_ctx = ctx;
  m->deleter = &delete_managed<Managed>;
  m->dl_tensor = t->descriptor();
  m->dl_tensor.shape = ctx->shape.data();
  m->dl_tensor.strides = ctx->strides.data();
}

template <typename Managed>
void capsule_destructor(PyObject* capsule, const char* live_name) {
  // A capsule nobody consumed still owns its tensor; a consumed one was renamed "used_...".
  if (PyCapsule_IsValid(capsule, live_name)) {
    auto* m = static_cast<Managed*>(PyCapsule_GetPointer(capsule, live_name));
    if (m && m->deleter) m->deleter(m);
  } else {
    PyErr_Clear();
  }
}

py::object export_tensor(const std::shared_ptr<TensorImpl>& self, py::object stream,
                         py::object max_version, py::object dl_device, py::object copy) {
  if (!copy.is_none() && copy.cast<bool>())
    throw py::buffer_error("xhal tensors are exported without copying; copy=True is not supported");
  const xhal_dl_device_t mine = self->dl_device();
  if (!dl_device.is_none()) {
    auto wanted = dl_device.cast<std::pair<int32_t, int32_t>>();
    if (wanted.first != mine.device_type || wanted.second != mine.device_id)
      throw py::buffer_error("cannot export to another device without a copy");
  }
  if (self->device != kHostDevice) {
    // DLPack: the consumer names the stream it will read on. When that is our default stream
    // (a framework running on xhal's stream), or -1 ("do not synchronise"), the data is already
    // ordered; for any other stream our pending work must finish first.
    bool ordered = false;
    if (!stream.is_none()) {
      const intptr_t consumer = stream.cast<intptr_t>();
      intptr_t ours = 0;
      ordered = consumer == -1 ||
                (xhal_device_native_stream(runtime(), self->device, &ours) == XHAL_OK &&
                 ours == consumer);
    }
    if (!ordered) {
      py::gil_scoped_release release;
      check(xhal_device_synchronize(runtime(), self->device));
    }
  }
  bool versioned = false;
  if (!max_version.is_none()) {
    auto v = max_version.cast<std::pair<int, int>>();
    versioned = v.first >= 1;
  }
  if (versioned) {
    auto* m = new DLManagedTensorVersioned();
    m->version = {1, 0};
    m->flags = 0;
    fill(m, self);
    return py::reinterpret_steal<py::object>(PyCapsule_New(m, kVersionedName, [](PyObject* c) {
      capsule_destructor<DLManagedTensorVersioned>(c, kVersionedName);
    }));
  }
  auto* m = new DLManagedTensor();
  fill(m, self);
  return py::reinterpret_steal<py::object>(PyCapsule_New(
      m, kLegacyName, [](PyObject* c) { capsule_destructor<DLManagedTensor>(c, kLegacyName); }));
}

std::shared_ptr<TensorImpl> import_capsule(py::capsule capsule, int32_t device) {
  PyObject* obj = capsule.ptr();
  const xhal_tensor_t* dl = nullptr;
  std::function<void()> release;
  bool read_only = false;
  if (PyCapsule_IsValid(obj, kVersionedName)) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(obj, kVersionedName));
    if (m->version.major != 1)
      throw py::buffer_error("unsupported DLPack major version " + std::to_string(m->version.major));
    dl = &m->dl_tensor;
    read_only = m->flags & kFlagReadOnly;
    release = [m] { if (m->deleter) m->deleter(m); };
    PyCapsule_SetName(obj, kUsedVersionedName);
  } else if (PyCapsule_IsValid(obj, kLegacyName)) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(obj, kLegacyName));
    dl = &m->dl_tensor;
    release = [m] { if (m->deleter) m->deleter(m); };
    PyCapsule_SetName(obj, kUsedLegacyName);
  } else {
    throw py::buffer_error("not a live DLPack capsule (already consumed?)");
  }
  (void)read_only;  // xhal kernels never write their inputs; outputs are always fresh tensors
  auto t = std::make_shared<TensorImpl>();
  t->storage = std::make_shared<Storage>();
  t->storage->release = std::move(release);  // from here on the producer's memory is owned
  t->storage->device = device;
  t->storage->ptr = dl->data;
  t->device = device;
  t->dl = dl->device;  // where the producer says the memory is
  t->dtype = xhal_dtype_from_dl(dl->dtype);
  if (t->dtype == XHAL_DTYPE_UNDEFINED)
    throw py::buffer_error("DLPack dtype (code " + std::to_string(dl->dtype.code) + ", bits " +
                           std::to_string(dl->dtype.bits) + ", lanes " +
                           std::to_string(dl->dtype.lanes) + ") has no xhal dtype");
  if (dl->ndim < 0) throw py::buffer_error("DLPack tensor with negative ndim");
  t->shape.assign(dl->shape, dl->shape + dl->ndim);
  if (dl->strides) t->strides.assign(dl->strides, dl->strides + dl->ndim);
  if (t->is_compact()) t->strides.clear();
  t->byte_offset = dl->byte_offset;
  t->storage->nbytes = t->nbytes();
  return t;
}

}  // namespace

void bind_dlpack(py::module_& m, py::class_<TensorImpl, std::shared_ptr<TensorImpl>>& cls) {
  cls.def("__dlpack__", &export_tensor, py::kw_only(), py::arg("stream") = py::none(),
          py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
          py::arg("copy") = py::none())
      .def("__dlpack_device__", [](const TensorImpl& t) {
        const xhal_dl_device_t d = t.dl_device();
        return py::make_tuple(d.device_type, d.device_id);
      });
  m.def("from_dlpack_capsule", &import_capsule, py::arg("capsule"), py::arg("device"),
        "Wrap a producer's DLPack capsule as a tensor on global device `device`, no copy.");
}

}  // namespace xhal::python
