#pragma once
// Files under tests/data for unit tests (the code under test itself reads no files).
#include <fstream>
#include <sstream>
#include <string>

// The bytes of tests/data/<relative>; "" when it cannot be read.
inline std::string read_test_data(const std::string& relative) {
  std::ifstream in(std::string(TWINBOX_TEST_DATA) + "/" + relative, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
