#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "util/fd.hpp"
#include "util/fs.hpp"

namespace twinbox {
namespace {

class PrivatePath : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twinbox-fs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// twinboxd refuses a socket directory another user could write: checked on real directories,
// symlinks resolved.
TEST_F(PrivatePath, RealDirectoriesAreCheckedWithSymlinksResolved) {
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  EXPECT_TRUE(fs::check_private_path(dir_ + "/docker.sock"));

  ASSERT_EQ(::chmod(dir_.c_str(), 0777), 0);
  auto st = fs::check_private_path(dir_ + "/docker.sock");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("refusing " + dir_ + "/docker.sock: " + dir_ + " (mode 0777)"),
            std::string::npos)
      << st.error().message;

  // A private-looking path that is a symlink into the open directory is judged by its target.
  ASSERT_EQ(::chmod(dir_.c_str(), 0700), 0);
  std::string open = dir_ + "/open";
  ASSERT_EQ(::mkdir(open.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open.c_str(), 0777), 0);
  ASSERT_EQ(::symlink(open.c_str(), (dir_ + "/link").c_str()), 0);
  st = fs::check_private_path(dir_ + "/link/docker.sock");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find(open + " (mode 0777)"), std::string::npos)
      << st.error().message;
}

// The socket gets the group it is given before its mode, and the mode asked for.
TEST_F(PrivatePath, ListenUnixSetsModeAndGroup) {
  std::string sock = dir_ + "/api.sock";
  auto fd = listen_unix(sock, 0660, 8, static_cast<int>(::getegid()));
  ASSERT_TRUE(fd) << fd.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(sock.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, ::getegid());
}

}  // namespace
}  // namespace twinbox
