#include "util/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <string>

namespace twinbox::log {

static std::atomic<Level> g_level{Level::Info};
static std::mutex g_mu;

void set_level(Level l) { g_level = l; }

void write(Level l, std::string_view component, std::string_view msg) {
  if (l < g_level.load()) return;
  static const char* names[] = {"debug", "info", "warn", "error"};
  auto now = std::chrono::system_clock::now();
  auto t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  std::lock_guard lock(g_mu);
  std::fprintf(stderr, "%s.%03dZ %-5s [%.*s] %.*s\n", ts, static_cast<int>(ms.count()),
               names[static_cast<int>(l)], static_cast<int>(component.size()), component.data(),
               static_cast<int>(msg.size()), msg.data());
  std::fflush(stderr);
}

}  // namespace twinbox::log
