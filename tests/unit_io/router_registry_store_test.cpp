// The workload registry on disk (issue 24): a snapshot plus a journal of one line per change.
// A change appends and never rewrites the snapshot; the journal is folded into a new snapshot
// when it outgrows the registry and at every load; a journal cut at any byte (a crash part-way
// through an append) loses at most the change being written and never the ones before it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "router/registry_store.hpp"
#include "util/fs.hpp"

using namespace twinbox;
using namespace twinbox::router;

namespace {

std::string id_of(int n) {
  std::string s = std::to_string(n);
  return std::string(64 - s.size(), 'a') + s;
}

// The registry without its generation (which only says which journal continues a snapshot).
std::string content(WorkloadRegistry r) {
  r.set_generation(0);
  return r.to_json();
}

class RegistryStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/twinbox-regstore-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/workloads.json";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, path_;
};

// A mix of every kind of change, one update each.
void change_everything(RegistryStore& s, std::vector<std::string>* after_each = nullptr) {
  auto step = [&](const std::function<bool(WorkloadRegistry&)>& f) {
    ASSERT_TRUE(s.update(f));
    if (after_each)
      after_each->push_back(s.read([](const WorkloadRegistry& r) { return content(r); }));
  };
  step([](WorkloadRegistry& r) {
    r.record_container({id_of(1), "hv", "web", "shop"});
    return true;
  });
  step([](WorkloadRegistry& r) {
    r.record_container({id_of(2), "rosetta", "db", "shop"});
    return true;
  });
  step([](WorkloadRegistry& r) {
    r.record_exec("e1", "rosetta", id_of(2));
    return true;
  });
  step([](WorkloadRegistry& r) { return r.rename_container(id_of(1), "front").has_value(); });
  step([](WorkloadRegistry& r) {
    r.declare_project({"shop", "rosetta", "db is linux/amd64"});
    return true;
  });
  step([](WorkloadRegistry& r) {
    r.record_container({id_of(3), "hv", "db", ""});  // takes the name from id 2
    return true;
  });
  step([](WorkloadRegistry& r) { return r.forget_container(id_of(2)); });
  step([](WorkloadRegistry& r) {
    return r.reconcile_backend("hv", {{id_of(3), "hv", "db", ""}, {id_of(4), "hv", "new", ""}});
  });
  step([](WorkloadRegistry& r) { return r.forget_project("shop"); });
}

TEST_F(RegistryStoreTest, EveryKindOfChangeSurvivesAReload) {
  std::string want;
  {
    RegistryStore s(path_);
    ASSERT_TRUE(s.load());
    change_everything(s);
    want = s.read([](const WorkloadRegistry& r) { return content(r); });
    EXPECT_GT(s.journal_lines(), 5u);
  }
  EXPECT_EQ(content(RegistryStore::peek(path_)), want);
  RegistryStore again(path_);
  ASSERT_TRUE(again.load());
  EXPECT_EQ(again.read([](const WorkloadRegistry& r) { return content(r); }), want);
  EXPECT_EQ(again.journal_lines(), 0u);  // load folded the journal into the snapshot
  EXPECT_EQ(content(RegistryStore::peek(path_)), want);
}

TEST_F(RegistryStoreTest, AChangeAppendsAndLeavesTheSnapshotAlone) {
  RegistryStore s(path_);
  ASSERT_TRUE(s.load());
  ASSERT_TRUE(s.update([](WorkloadRegistry& r) {
    for (int i = 0; i < 500; i++) r.record_container({id_of(i), "hv", "c" + std::to_string(i)});
    return true;
  }));
  struct stat before {};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  auto journal_before = fs::read_file(s.journal_path());
  ASSERT_TRUE(s.update([](WorkloadRegistry& r) {
    r.record_container({id_of(1000), "rosetta", "one-more"});
    return true;
  }));
  struct stat after {};
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // not replaced
  EXPECT_EQ(after.st_size, before.st_size);
  auto journal_after = fs::read_file(s.journal_path());
  ASSERT_TRUE(journal_before && journal_after);
  // Exactly one line more, and it is the change.
  ASSERT_EQ(journal_after->substr(0, journal_before->size()), *journal_before);
  std::string added = journal_after->substr(journal_before->size());
  EXPECT_EQ(std::count(added.begin(), added.end(), '\n'), 1) << added;
  EXPECT_NE(added.find("one-more"), std::string::npos) << added;
  // Nothing was changed: nothing is written.
  ASSERT_TRUE(s.update([](WorkloadRegistry&) { return false; }));
  EXPECT_EQ(fs::read_file(s.journal_path()).value_or(""), *journal_after);
}

TEST_F(RegistryStoreTest, TheJournalIsFoldedIntoANewSnapshotOnceItOutgrowsTheRegistry) {
  RegistryStore s(path_, /*compact_min=*/8);
  ASSERT_TRUE(s.load());
  for (int i = 0; i < 3; i++) {
    ASSERT_TRUE(s.update([&](WorkloadRegistry& r) {
      r.record_container({id_of(i), "hv", ""});
      return true;
    }));
  }
  EXPECT_EQ(s.journal_lines(), 3u);
  uint64_t gen = RegistryStore::peek(path_).generation();
  for (int i = 0; i < 6; i++) {  // renames: the registry stays at 3 records
    ASSERT_TRUE(s.update([&](WorkloadRegistry& r) {
      return r.rename_container(id_of(i % 3), "n" + std::to_string(i)).has_value();
    }));
  }
  // 9 lines > max(8, 3): compacted; the journal starts over under the next generation.
  EXPECT_EQ(s.journal_lines(), 0u);
  auto peeked = RegistryStore::peek(path_);
  EXPECT_EQ(peeked.generation(), gen + 1);
  EXPECT_EQ(content(peeked), s.read([](const WorkloadRegistry& r) { return content(r); }));
}

TEST_F(RegistryStoreTest, AJournalCutAtAnyByteLosesAtMostTheChangeBeingWritten) {
  std::vector<std::string> after_each;
  std::string snapshot, journal, initial;
  {
    RegistryStore s(path_);
    ASSERT_TRUE(s.load());
    initial = s.read([](const WorkloadRegistry& r) { return content(r); });
    change_everything(s, &after_each);
    snapshot = *fs::read_file(path_);
    journal = *fs::read_file(s.journal_path());
  }
  // Where each change's line ends in the journal (after its newline).
  std::vector<size_t> ends;
  for (size_t i = 0; i < journal.size(); i++) {
    if (journal[i] == '\n') ends.push_back(i + 1);
  }
  ASSERT_EQ(ends.size(), 1 + after_each.size());  // the header, then one line per change
  for (size_t cut = 0; cut <= journal.size(); cut++) {
    std::filesystem::remove_all(dir_ + "/cut");
    std::filesystem::create_directories(dir_ + "/cut");
    std::string p = dir_ + "/cut/workloads.json";
    ASSERT_TRUE(fs::write_file_atomic(p, snapshot));
    ASSERT_TRUE(fs::write_file_atomic(p + ".journal", journal.substr(0, cut)));
    // The changes whose whole line (newline included) lies before the cut.
    size_t complete = 0;
    for (size_t k = 1; k < ends.size(); k++) {
      if (ends[k] <= cut) complete = k;
    }
    std::string want = complete == 0 ? initial : after_each[complete - 1];
    RegistryStore s(p);
    Status st = s.load();
    ASSERT_TRUE(st) << "cut at " << cut << ": " << st.error().message;
    ASSERT_EQ(s.read([](const WorkloadRegistry& r) { return content(r); }), want)
        << "cut at byte " << cut << " of " << journal.size();
    // And the store goes on: a change after the crash is kept along with the rest.
    ASSERT_TRUE(s.update([](WorkloadRegistry& r) {
      r.record_container({id_of(99), "hv", "after-crash"});
      return true;
    }));
    auto reloaded = RegistryStore::peek(p);
    ASSERT_TRUE(reloaded.holder_of_name("after-crash").has_value()) << "cut at " << cut;
  }
}

TEST_F(RegistryStoreTest, AJournalOfAnotherGenerationIsIgnored) {
  {
    RegistryStore s(path_);
    ASSERT_TRUE(s.load());
    ASSERT_TRUE(s.update([](WorkloadRegistry& r) {
      r.record_container({id_of(1), "hv", "kept"});
      return true;
    }));
  }
  {
    RegistryStore s(path_);
    ASSERT_TRUE(s.load());  // folds the journal: the snapshot now holds "kept"
  }
  auto snap = WorkloadRegistry::from_json(*fs::read_file(path_));
  ASSERT_TRUE(snap);
  ASSERT_TRUE(snap->holder_of_name("kept"));
  ASSERT_GT(snap->generation(), 0u);
  // A crash between a compaction's new snapshot and its new journal leaves the previous
  // journal, whose changes the snapshot already holds: it must not be replayed over it.
  std::string stale = R"({"journal":1,"generation":)" + std::to_string(snap->generation() - 1) +
                      "}\n" + R"({"op":"forget","id":")" + id_of(1) + "\"}\n";
  ASSERT_TRUE(fs::write_file_atomic(path_ + ".journal", stale));
  EXPECT_TRUE(RegistryStore::peek(path_).holder_of_name("kept"));
  RegistryStore s(path_);
  ASSERT_TRUE(s.load());
  EXPECT_TRUE(s.read([](const WorkloadRegistry& r) { return r.holder_of_name("kept"); }));
}

TEST_F(RegistryStoreTest, ABadLineBeforeTheEndStopsTheReplayThereAndSaysSo) {
  {
    RegistryStore s(path_);
    ASSERT_TRUE(s.load());
    for (int i = 0; i < 3; i++) {
      ASSERT_TRUE(s.update([&](WorkloadRegistry& r) {
        r.record_container({id_of(i), "hv", "c" + std::to_string(i)});
        return true;
      }));
    }
  }
  std::string j = *fs::read_file(path_ + ".journal");
  size_t second = j.find('\n', j.find('\n') + 1) + 1;  // the start of the second change's line
  j.replace(second, 1, "#");
  ASSERT_TRUE(fs::write_file_atomic(path_ + ".journal", j));
  RegistryStore s(path_);
  Status st = s.load();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("line 3"), std::string::npos) << st.error().message;
  EXPECT_EQ(s.read([](const WorkloadRegistry& r) { return r.containers().size(); }), 1u);
}

TEST_F(RegistryStoreTest, ASnapshotFromBeforeJournalsLoads) {
  WorkloadRegistry old;
  old.record_container({id_of(5), "rosetta", "legacy", "p"});
  std::string text = old.to_json();
  auto at = text.find("\"generation\": 0,");
  ASSERT_NE(at, std::string::npos) << text;
  text.erase(at, std::string("\"generation\": 0,").size());
  ASSERT_TRUE(fs::write_file_atomic(path_, text));
  RegistryStore s(path_);
  ASSERT_TRUE(s.load());
  EXPECT_TRUE(s.read([](const WorkloadRegistry& r) { return r.holder_of_name("legacy"); }));
}

TEST_F(RegistryStoreTest, InMemoryStoresWriteNothing) {
  RegistryStore s("");
  ASSERT_TRUE(s.load());
  ASSERT_TRUE(s.update([](WorkloadRegistry& r) {
    r.record_container({id_of(1), "hv", "x"});
    return true;
  }));
  EXPECT_EQ(s.journal_lines(), 0u);
  EXPECT_FALSE(fs::exists(".journal"));
}

}  // namespace
