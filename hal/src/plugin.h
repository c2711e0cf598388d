// One loaded plugin library: dlopen (RTLD_LOCAL), the entry symbol, ABI negotiation, and
// checked access to the plugin's function table.
#pragma once

#include <cstddef>
#include <string>

#include <xhal/xhal_abi.h>

namespace xhal {

class KernelRegistry;

class Plugin {
 public:
  // Loads `path` and initialises the plugin. Throws Error (status XHAL_ERROR_INVALID_ARGUMENT or
  // XHAL_ERROR_ABI_MISMATCH) with a one-line message naming the file and both ABI versions.
  static Plugin* load(const std::string& path, int index, KernelRegistry& registry);
  ~Plugin();
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  const std::string& path() const { return path_; }
  const std::string& device_type() const { return device_type_; }
  const std::string& version() const { return version_; }
  int index() const { return index_; }
  const xhal_plugin_api_t& api() const { return *api_; }
  uint16_t abi_minor() const { return api_->abi_minor; }
  int32_t device_count() const { return device_count_; }
  const std::string& no_device_reason() const { return no_device_reason_; }
  void set_devices(int32_t count, std::string reason) {
    device_count_ = count;
    no_device_reason_ = std::move(reason);
  }

  // True when the plugin's table is long enough to hold the function at byte offset
  // `offset` and the plugin filled it (NULL = unimplemented).
  template <typename Fn>
  bool has(Fn xhal_plugin_api_t::*member) const {
    const size_t offset = reinterpret_cast<size_t>(
        &(static_cast<const xhal_plugin_api_t*>(nullptr)->*member));
    return api_->struct_size >= offset + sizeof(Fn) && api_->*member != nullptr;
  }

  // The function, or throws Error(XHAL_ERROR_UNSUPPORTED) naming it.
  template <typename Fn>
  Fn get(Fn xhal_plugin_api_t::*member, const char* name) const {
    if (!has(member)) throw_unimplemented(name);
    return api_->*member;
  }

 private:
  Plugin(std::string path, void* handle, const xhal_plugin_api_t* api, int index);
  [[noreturn]] void throw_unimplemented(const char* name) const;

  std::string path_;
  void* handle_;
  const xhal_plugin_api_t* api_;
  std::string device_type_;
  std::string version_;
  int index_;
  int32_t device_count_ = 0;
  std::string no_device_reason_;
};

// The host table handed to every plugin (one per process).
const xhal_host_api_t* host_api();

}  // namespace xhal
