// Errors inside libxhal: a C++ exception carrying an xhal_status_t, turned into a status code
// and a thread-local message at the C API boundary (and by the host's set_error callback).
#pragma once

#include <stdexcept>
#include <string>

#include <xhal/xhal_abi.h>

namespace xhal {

class Error : public std::runtime_error {
 public:
  Error(xhal_status_t status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  xhal_status_t status() const { return status_; }

 private:
  xhal_status_t status_;
};

// The thread's last message, shared by the C API (xhal_last_error) and plugins (set_error).
void set_last_error(const std::string& message);
const std::string& last_error();
void clear_last_error();

// Called by the host table's set_error on the plugin's thread.
void set_plugin_error(const char* message);

// Throws Error(status, context + ": " + plugin message) when status != XHAL_OK. The plugin's
// message is the one it reported through host->set_error on this thread, if any.
void check_plugin_status(xhal_status_t status, const std::string& context);

const char* status_name(xhal_status_t status);

}  // namespace xhal
