#include "plugin.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdio>

#include "error.h"
#include "kernel_registry.h"

namespace xhal {
namespace {

xhal_status_t host_set_error(xhal_status_t status, const char* message) {
  set_plugin_error(message);
  return status;
}

void host_log(int32_t level, const char* message) {
  static const char* const kLevels[] = {"debug", "info", "warning", "error"};
  if (level < XHAL_LOG_WARNING || !message) return;  // quiet unless something is wrong
  std::fprintf(stderr, "xhal plugin [%s]: %s\n", kLevels[level > 3 ? 3 : level], message);
}

xhal_status_t host_register_kernel(xhal_registry_t registry, const xhal_kernel_def_t* def) {
  auto* session = reinterpret_cast<KernelRegistry::Session*>(registry);
  try {
    session->add(def);
    return XHAL_OK;
  } catch (const Error& e) {
    // Recorded on the session: the load fails after register_kernels returns.
    session->fail(e.what());
    return e.status();
  }
}

const xhal_host_api_t kHostApi = {
    sizeof(xhal_host_api_t), XHAL_ABI_MAJOR, XHAL_ABI_MINOR,
    &host_set_error,         &host_log,      &host_register_kernel,
};

std::string version_string(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// The members every 1.0 plugin must fill; later additions are optional by construction.
constexpr size_t kMinTableSize = offsetof(xhal_plugin_api_t, register_kernels) + sizeof(void*);

}  // namespace

const xhal_host_api_t* host_api() { return &kHostApi; }

Plugin::Plugin(std::string path, void* handle, const xhal_plugin_api_t* api, int index)
    : path_(std::move(path)), handle_(handle), api_(api), index_(index) {
  device_type_ = api->device_type ? api->device_type : "";
  version_ = api->plugin_version ? api->plugin_version : "";
}

Plugin::~Plugin() {
  if (has(&xhal_plugin_api_t::finalize)) api_->finalize();
  // Plugins stay mapped: kernels or static destructors may still be referenced at exit, and
  // unmapping a library that started threads is a classic source of crashes at shutdown.
  (void)handle_;
}

void Plugin::throw_unimplemented(const char* name) const {
  throw Error(XHAL_ERROR_UNSUPPORTED,
              "plugin " + device_type_ + " (" + path_ + ") does not implement " + name);
}

Plugin* Plugin::load(const std::string& path, int index, KernelRegistry& registry) {
  const std::string host_version = version_string(XHAL_ABI_MAJOR, XHAL_ABI_MINOR);
  struct stat st;
  if (stat(path.c_str(), &st) != 0)
    throw Error(XHAL_ERROR_INVALID_ARGUMENT, "cannot load plugin " + path + ": no such file");
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                "cannot load plugin " + path + ": " + (why ? why : "dlopen failed"));
  }
  auto entry = reinterpret_cast<xhal_get_plugin_api_fn>(dlsym(handle, XHAL_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    dlclose(handle);
    throw Error(XHAL_ERROR_INVALID_ARGUMENT, "cannot load plugin " + path +
                                                 ": it does not export the entry symbol " +
                                                 XHAL_PLUGIN_ENTRY_SYMBOL +
                                                 " (is it an xhal plugin?)");
  }
  set_plugin_error(nullptr);
  const xhal_plugin_api_t* api = entry(&kHostApi);
  if (!api) {
    std::string why;
    try {
      check_plugin_status(XHAL_ERROR_ABI_MISMATCH, "plugin refused the host");
    } catch (const Error& e) {
      why = e.what();
    }
    dlclose(handle);
    throw Error(XHAL_ERROR_ABI_MISMATCH, "cannot load plugin " + path + ": " + why +
                                             " (host ABI " + host_version + ")");
  }
  const std::string plugin_version = version_string(api->abi_major, api->abi_minor);
  if (api->abi_major != XHAL_ABI_MAJOR) {
    dlclose(handle);
    throw Error(XHAL_ERROR_ABI_MISMATCH,
                "cannot load plugin " + path + ": it implements xhal ABI " + plugin_version +
                    " but this host implements ABI " + host_version +
                    "; rebuild the plugin against xhal ABI " +
                    std::to_string(XHAL_ABI_MAJOR) + ".x");
  }
  if (api->struct_size < kMinTableSize) {
    dlclose(handle);
    throw Error(XHAL_ERROR_ABI_MISMATCH,
                "cannot load plugin " + path + ": its function table is " +
                    std::to_string(api->struct_size) + " bytes, smaller than ABI " +
                    std::to_string(XHAL_ABI_MAJOR) + ".0 requires (" +
                    std::to_string(kMinTableSize) + "); plugin ABI " + plugin_version +
                    ", host ABI " + host_version);
  }
  if (!api->device_type || !*api->device_type) {
    dlclose(handle);
    throw Error(XHAL_ERROR_INVALID_ARGUMENT,
                "cannot load plugin " + path + ": it declares no device_type");
  }
  Plugin* plugin = new Plugin(path, handle, api, index);
  try {
    static const char* const kRequired[] = {"device_count", "mem_alloc", "mem_free",
                                            "memcpy_async", "stream_create",
                                            "stream_synchronize"};
    const bool present[] = {plugin->has(&xhal_plugin_api_t::device_count),
                            plugin->has(&xhal_plugin_api_t::mem_alloc),
                            plugin->has(&xhal_plugin_api_t::mem_free),
                            plugin->has(&xhal_plugin_api_t::memcpy_async),
                            plugin->has(&xhal_plugin_api_t::stream_create),
                            plugin->has(&xhal_plugin_api_t::stream_synchronize)};
    for (size_t i = 0; i < sizeof(present); ++i)
      if (!present[i])
        throw Error(XHAL_ERROR_INVALID_ARGUMENT, std::string("cannot load plugin ") + path +
                                                     ": required function " + kRequired[i] +
                                                     " is NULL");
    if (plugin->has(&xhal_plugin_api_t::initialize))
      check_plugin_status(api->initialize(), "cannot load plugin " + path + ": initialize failed");
    if (plugin->has(&xhal_plugin_api_t::register_kernels)) {
      KernelRegistry::Session session(registry, index, plugin->device_type_);
      const xhal_status_t status =
          api->register_kernels(reinterpret_cast<xhal_registry_t>(&session));
      session.finish(status, "cannot load plugin " + path + ": register_kernels failed");
    }
  } catch (...) {
    registry.remove_plugin(index);
    delete plugin;
    throw;
  }
  return plugin;
}

}  // namespace xhal
