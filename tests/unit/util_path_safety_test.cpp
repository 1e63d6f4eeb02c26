#include <gtest/gtest.h>
#include <sys/stat.h>

#include "util/path_safety.hpp"

namespace twinbox {
namespace {

DirFacts dir(const std::string& path, uint32_t uid, uint32_t perm) {
  return {path, uid, S_IFDIR | perm, true};
}

std::string refusal(const std::vector<DirFacts>& chain, uint32_t euid) {
  auto st = check_private_dirs(chain, euid);
  return st ? "" : st.error().message;
}

TEST(PathSafety, PrivateDirectoriesUnderRootOrOurOwnAreAccepted) {
  EXPECT_EQ(refusal({dir("/home/u/.local/state/twinbox", 1000, 0700),
                     dir("/home/u/.local/state", 1000, 0755), dir("/home/u/.local", 1000, 0755),
                     dir("/home/u", 1000, 0750), dir("/home", 0, 0755), dir("/", 0, 0755)},
                    1000),
            "");
  // A private directory of ours in /tmp (world-writable, but sticky) is fine.
  EXPECT_EQ(refusal({dir("/tmp/tb.x1", 0, 0700), dir("/tmp", 0, 01777), dir("/", 0, 0755)}, 0), "");
  // The state directory opened to the socket's group for traversal only.
  EXPECT_EQ(refusal({dir("/srv/twinbox", 0, 0710), dir("/srv", 0, 0755), dir("/", 0, 0755)}, 0),
            "");
}

TEST(PathSafety, ADirectoryAnotherUserCanWriteOrOwnsIsRefused) {
  // The socket's own directory writable by others: they could swap the socket.
  auto m = refusal({dir("/tmp", 0, 01777), dir("/", 0, 0755)}, 1000);
  EXPECT_NE(m.find("/tmp (mode 1777) is writable by other users, who could replace the socket"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("chmod go-w /tmp"), std::string::npos) << m;
  // Group-writable holder.
  m = refusal({dir("/srv/tb", 0, 0770), dir("/srv", 0, 0755), dir("/", 0, 0755)}, 0);
  EXPECT_NE(m.find("/srv/tb (mode 0770)"), std::string::npos) << m;
  // An ancestor writable by others without the sticky bit: the subtree could be renamed away.
  m = refusal({dir("/shared/me/tb", 1000, 0700), dir("/shared/me", 1000, 0755),
               dir("/shared", 0, 0777), dir("/", 0, 0755)},
              1000);
  EXPECT_NE(m.find("/shared (mode 0777)"), std::string::npos) << m;
  EXPECT_NE(m.find("the directories under it"), std::string::npos) << m;
  // An ancestor owned by another user (root running under someone's home).
  m = refusal({dir("/home/alice/tb", 0, 0700), dir("/home/alice", 1000, 0755),
               dir("/home", 0, 0755), dir("/", 0, 0755)},
              0);
  EXPECT_NE(m.find("/home/alice belongs to uid 1000"), std::string::npos) << m;
  // Our directory inside another user's: same.
  m = refusal({dir("/home/bob/shared", 2000, 0700), dir("/home/bob", 1000, 0755)}, 2000);
  EXPECT_NE(m.find("/home/bob belongs to uid 1000"), std::string::npos) << m;
  // Not a directory.
  m = refusal({{"/x", 0, S_IFREG | 0600, false}}, 0);
  EXPECT_NE(m.find("/x is not a directory"), std::string::npos) << m;
}

TEST(PathSafety, SocketModesAreOwnerAndGroupOnly) {
  EXPECT_EQ(parse_socket_mode("0660").value(), 0660u);
  EXPECT_EQ(parse_socket_mode("600").value(), 0600u);
  EXPECT_EQ(parse_socket_mode("0640").value(), 0640u);
  for (const char* bad : {"0666", "0606", "4660", "0400", "", "rw", "0o660", "06600", "0968"}) {
    EXPECT_FALSE(parse_socket_mode(bad)) << bad;
  }
  auto e = parse_socket_mode("0666");
  EXPECT_NE(e.error().message.find("others may not have access"), std::string::npos);
}

}  // namespace
}  // namespace twinbox
