#pragma once
// Line-oriented logging to stderr with a timestamp and a component tag. Thread-safe.
#include <string_view>

namespace twinbox::log {

enum class Level { Debug, Info, Warn, Error };
void set_level(Level l);
void write(Level l, std::string_view component, std::string_view msg);
inline void info(std::string_view c, std::string_view m) { write(Level::Info, c, m); }
inline void warn(std::string_view c, std::string_view m) { write(Level::Warn, c, m); }
inline void error(std::string_view c, std::string_view m) { write(Level::Error, c, m); }
inline void debug(std::string_view c, std::string_view m) { write(Level::Debug, c, m); }

}  // namespace twinbox::log
