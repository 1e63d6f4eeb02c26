#include "api/backends.hpp"

namespace twinbox::api {

const char* backend_state_name(BackendState s) {
  switch (s) {
    case BackendState::Stopped:
      return "stopped";
    case BackendState::Starting:
      return "starting";
    case BackendState::Running:
      return "running";
    case BackendState::Stopping:
      return "stopping";
    case BackendState::Failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace twinbox::api
