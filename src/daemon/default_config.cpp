#include <cstdlib>

#include "daemon/config.hpp"

#ifndef TWINBOX_VMTEMPLATES_DIR
#define TWINBOX_VMTEMPLATES_DIR "vmtemplates"
#endif

namespace twinbox::daemon {

static std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

Config default_config() {
  Config c;
  std::string home = env("HOME").empty() ? "/root" : env("HOME");
  std::string state =
      env("XDG_STATE_HOME").empty() ? home + "/.local/state" : env("XDG_STATE_HOME");
  std::string cache = env("TWINBOX_CACHE_DIR");
  if (cache.empty())
    cache = (env("XDG_CACHE_HOME").empty() ? home + "/.cache" : env("XDG_CACHE_HOME")) + "/twinbox";
  c.state_dir = env("TWINBOX_STATE_DIR").empty() ? state + "/twinbox" : env("TWINBOX_STATE_DIR");
  c.assets_dir = cache + "/assets/current";
  c.template_dir = TWINBOX_VMTEMPLATES_DIR;
  c.shares = {home, env("TMPDIR").empty() ? "/tmp" : env("TMPDIR")};
  return c;
}

}  // namespace twinbox::daemon
