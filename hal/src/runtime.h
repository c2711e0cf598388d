// The runtime: loaded plugins, their devices (numbered globally in load order), one caching
// allocator and one default stream per device, and the kernel registry.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <xhal/xhal_abi.h>

#include "caching_allocator.h"
#include "kernel_registry.h"
#include "plugin.h"

namespace xhal {

struct Device {
  Plugin* plugin;
  int32_t local_index;
  xhal_device_properties_t props;
  xhal_stream_t stream;  // default stream
  std::unique_ptr<CachingAllocator> allocator;

  std::string name() const { return plugin->device_type() + ":" + std::to_string(local_index); }
};

class Runtime {
 public:
  Runtime() = default;
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  void load_plugin(const std::string& path);  // throws Error
  void load_plugins_from_env();               // failures go to skipped()
  const std::vector<std::string>& skipped() const { return skipped_; }

  int32_t plugin_count() const { return static_cast<int32_t>(plugins_.size()); }
  const Plugin& plugin(int32_t index) const;  // throws Error(INVALID_ARGUMENT)
  int32_t device_count() const { return static_cast<int32_t>(devices_.size()); }
  Device& device(int32_t index);  // throws Error(INVALID_ARGUMENT) naming the range
  int32_t find_device(const std::string& device_type, int32_t index) const;

  void* allocate(int32_t device, uint64_t size);
  void free(int32_t device, void* ptr);
  void copy(int32_t device, void* dst, const void* src, uint64_t size, xhal_copy_kind_t kind);
  void synchronize(int32_t device);
  // The default stream's native handle; Error(UNSUPPORTED) when the plugin exposes none.
  intptr_t native_stream(int32_t device);

  // The dispatcher (dispatcher.cpp).
  void launch(int32_t device, uint32_t op_id, int32_t op_version,
              const xhal_tensor_t* const* inputs, int32_t num_inputs, const void* attrs,
              xhal_tensor_t* const* outputs, int32_t num_outputs);

  KernelRegistry& registry() { return registry_; }

 private:
  std::mutex mutex_;  // guards loading
  std::vector<std::unique_ptr<Plugin>> plugins_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<std::string> skipped_;
  KernelRegistry registry_;
};

}  // namespace xhal
