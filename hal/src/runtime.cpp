#include "runtime.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "error.h"

namespace xhal {

Runtime::~Runtime() {
  for (auto& d : devices_) {
    if (d->stream && d->plugin->has(&xhal_plugin_api_t::stream_destroy))
      d->plugin->api().stream_destroy(d->stream);
    d->allocator.reset();
  }
  devices_.clear();
  plugins_.clear();
}

void Runtime::load_plugin(const std::string& path) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& p : plugins_)
    if (p->path() == path) return;  // already loaded: loading is idempotent
  const int index = static_cast<int>(plugins_.size());
  std::unique_ptr<Plugin> plugin(Plugin::load(path, index, registry_));
  for (const auto& p : plugins_) {
    if (p->device_type() == plugin->device_type()) {
      registry_.remove_plugin(index);
      throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                  "cannot load plugin " + path + ": device type '" + plugin->device_type() +
                      "' is already provided by " + p->path());
    }
  }
  int32_t count = 0;
  std::string no_device_reason;
  try {
    check_plugin_status(plugin->api().device_count(&count), "device_count");
    if (count < 0) throw Error(XHAL_ERROR_INTERNAL, "device_count returned a negative count");
  } catch (const Error& e) {
    // A plugin without a usable device (no driver, no hardware) still loads, with zero
    // devices and the reason it gave.
    count = 0;
    no_device_reason = e.what();
  }
  plugin->set_devices(count, no_device_reason);
  std::vector<std::unique_ptr<Device>> added;
  try {
    for (int32_t i = 0; i < count; ++i) {
      auto dev = std::make_unique<Device>();
      dev->plugin = plugin.get();
      dev->local_index = i;
      std::memset(&dev->props, 0, sizeof(dev->props));
      dev->props.struct_size = sizeof(dev->props);
      const std::string ctx = plugin->device_type() + ":" + std::to_string(i);
      if (plugin->has(&xhal_plugin_api_t::device_get_properties))
        check_plugin_status(plugin->api().device_get_properties(i, &dev->props),
                            ctx + ": device_get_properties");
      dev->props.name[sizeof(dev->props.name) - 1] = '\0';
      dev->props.vendor[sizeof(dev->props.vendor) - 1] = '\0';
      check_plugin_status(plugin->api().stream_create(i, &dev->stream), ctx + ": stream_create");
      dev->allocator = std::make_unique<CachingAllocator>(*plugin, i, dev->props.alignment);
      added.push_back(std::move(dev));
    }
  } catch (...) {
    registry_.remove_plugin(index);
    throw;
  }
  for (auto& d : added) devices_.push_back(std::move(d));
  plugins_.push_back(std::move(plugin));
}

void Runtime::load_plugins_from_env() {
  const char* env = std::getenv("XHAL_PLUGIN_PATH");
  if (!env) return;
  std::string list = env;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    const std::string entry = list.substr(start, end - start);
    start = end + 1;
    if (entry.empty()) continue;
    std::vector<std::string> files;
    struct stat st;
    if (stat(entry.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      if (DIR* dir = opendir(entry.c_str())) {
        while (dirent* de = readdir(dir)) {
          const std::string name = de->d_name;
          if (name.size() > 3 && name.compare(name.size() - 3, 3, ".so") == 0)
            files.push_back(entry + "/" + name);
        }
        closedir(dir);
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(entry);
    }
    for (const std::string& file : files) {
      try {
        load_plugin(file);
      } catch (const Error& e) {
        skipped_.push_back(e.what());
      }
    }
  }
}

const Plugin& Runtime::plugin(int32_t index) const {
  if (index < 0 || index >= plugin_count())
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                "plugin " + std::to_string(index) + " does not exist (" +
                    std::to_string(plugin_count()) + " loaded)");
  return *plugins_[index];
}

Device& Runtime::device(int32_t index) {
  if (index < 0 || index >= device_count())
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                "device " + std::to_string(index) + " does not exist (" +
                    std::to_string(device_count()) + " devices)");
  return *devices_[index];
}

int32_t Runtime::find_device(const std::string& device_type, int32_t index) const {
  for (size_t i = 0; i < devices_.size(); ++i)
    if (devices_[i]->plugin->device_type() == device_type && devices_[i]->local_index == index)
      return static_cast<int32_t>(i);
  throw Error(XHAL_ERROR_INVALID_ARGUMENT,
              "no device " + device_type + ":" + std::to_string(index) + " is loaded");
}

void* Runtime::allocate(int32_t device, uint64_t size) {
  return this->device(device).allocator->allocate(size);
}

void Runtime::free(int32_t device, void* ptr) { this->device(device).allocator->free(ptr); }

void Runtime::copy(int32_t device, void* dst, const void* src, uint64_t size,
                   xhal_copy_kind_t kind) {
  Device& d = this->device(device);
  if (size == 0) return;
  if (!dst || !src) throw Error(XHAL_ERROR_INVALID_ARGUMENT, d.name() + ": copy with a NULL pointer");
  check_plugin_status(d.plugin->api().memcpy_async(d.stream, dst, src, size, kind),
                      d.name() + ": memcpy_async");
  check_plugin_status(d.plugin->api().stream_synchronize(d.stream),
                      d.name() + ": stream_synchronize");
}

void Runtime::synchronize(int32_t device) {
  Device& d = this->device(device);
  check_plugin_status(d.plugin->api().stream_synchronize(d.stream),
                      d.name() + ": stream_synchronize");
}

intptr_t Runtime::native_stream(int32_t device) {
  Device& d = this->device(device);
  if (!d.plugin->has(&xhal_plugin_api_t::stream_get_native_handle))
    throw Error(XHAL_ERROR_UNSUPPORTED, d.name() + ": the plugin exposes no native stream handle");
  intptr_t handle = 0;
  check_plugin_status(d.plugin->api().stream_get_native_handle(d.stream, &handle),
                      d.name() + ": stream_get_native_handle");
  return handle;
}

}  // namespace xhal
