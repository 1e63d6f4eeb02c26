#include "guest/binfmt.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace twinbox::guest {
namespace {

platform::ArchInfo arch(const char* name) {
  auto a = platform::arch_info(name);
  EXPECT_TRUE(a.has_value()) << name;
  return a.value_or(platform::ArchInfo{});
}

struct GoodCase {
  const char* arch;
  const char* name;
  const char* interpreter;
  const char* flags;
  const char* want;
};

TEST(BinfmtRegisterLine, FormatsKnownArches) {
  const std::vector<GoodCase> cases = {
      {"amd64", "qemu-x86_64", "/usr/bin/qemu-x86_64-static", "FC",
       R"(:qemu-x86_64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00)"
       R"(:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)"
       ":/usr/bin/qemu-x86_64-static:FC"},
      {"arm64", "twinbox-build-aarch64", "/usr/bin/qemu-aarch64-static", "F",
       R"(:twinbox-build-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00)"
       R"(:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)"
       ":/usr/bin/qemu-aarch64-static:F"},
      {"amd64", "q", "/q", "POCF",
       R"(:q:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00)"
       R"(:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)"
       ":/q:POCF"},
      {"amd64", "no.flags_1", "/usr/bin/x", "",
       R"(:no.flags_1:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00)"
       R"(:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff)"
       ":/usr/bin/x:"},
  };
  for (const auto& c : cases) {
    auto r = binfmt_register_line(arch(c.arch), c.name, c.interpreter, c.flags);
    ASSERT_TRUE(r.has_value()) << c.name << ": " << r.error().message;
    EXPECT_EQ(*r, c.want) << c.name;
  }
}

struct BadCase {
  std::string name;
  std::string interpreter;
  std::string flags;
  const char* message_part;
};

TEST(BinfmtRegisterLine, RejectsBadInput) {
  const std::vector<BadCase> cases = {
      {"", "/usr/bin/q", "F", "name is empty"},
      {".", "/usr/bin/q", "F", "reserved"},
      {"..", "/usr/bin/q", "F", "reserved"},
      {"qemu:x86", "/usr/bin/q", "F", "outside [A-Za-z0-9._-]"},
      {"qemu/x86", "/usr/bin/q", "F", "outside [A-Za-z0-9._-]"},
      {"qemu x86", "/usr/bin/q", "F", "outside [A-Za-z0-9._-]"},
      {std::string(65, 'a'), "/usr/bin/q", "F", "longer than 64"},
      {"q", "", "F", "not an absolute path"},
      {"q", "usr/bin/q", "F", "not an absolute path"},
      {"q", "/usr/bin/q:F", "F", "contains ':'"},
      {"q", "/usr/bin/q x", "F", "whitespace"},
      {"q", "/usr/bin/q\n", "F", "whitespace"},
      {"q", "/" + std::string(255, 'a'), "F", "longer than 255"},
      {"q", "/usr/bin/q", "X", "flag 'X' is not one of P, O, C, F"},
      {"q", "/usr/bin/q", "f", "flag 'f' is not one of"},
      {"q", "/usr/bin/q", "F:", "flag ':' is not one of"},
      {"q", "/usr/bin/q", "FF", "flag 'F' given twice"},
  };
  for (const auto& c : cases) {
    auto r = binfmt_register_line(arch("amd64"), c.name, c.interpreter, c.flags);
    ASSERT_FALSE(r.has_value()) << "name=" << c.name << " interp=" << c.interpreter;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos) << r.error().message;
  }
}

TEST(BinfmtRegisterLine, AcceptsMaximumNameLength) {
  EXPECT_TRUE(binfmt_register_line(arch("amd64"), std::string(64, 'a'), "/q", "F").has_value());
}

TEST(BinfmtRegisterLine, RejectsArchWithoutMagic) {
  platform::ArchInfo bare;
  bare.oci_arch = "riscv64";
  auto r = binfmt_register_line(bare, "q", "/q", "F");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("no ELF magic"), std::string::npos);
}

}  // namespace
}  // namespace twinbox::guest
