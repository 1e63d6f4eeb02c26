// The workload registry: ids, prefixes, names, renames, execs, reconciliation, JSON round trip.
#include <gtest/gtest.h>

#include "router/workload_registry.hpp"

using namespace twinbox::router;
using twinbox::ErrorCode;

namespace {

const std::string kA = "aaaa1111" + std::string(56, '1');
const std::string kB = "aaaa2222" + std::string(56, '2');
const std::string kC = "aaab3333" + std::string(56, '3');
const std::string kD = "dddd4444" + std::string(56, '4');

WorkloadRegistry sample() {
  WorkloadRegistry r;
  r.record_container({kA, "hv", "/web"});
  r.record_container({kB, "rosetta", "db"});
  r.record_container({kC, "rosetta", ""});
  r.record_container({kD, "hv", "cache"});
  return r;
}

TEST(FindContainer, Table) {
  auto reg = sample();
  struct Case {
    std::string ref;
    ErrorCode code;  // Internal = found
    std::string id;
    std::string backend;
  };
  std::vector<Case> cases = {
      {kA, ErrorCode::Internal, kA, "hv"},
      {"web", ErrorCode::Internal, kA, "hv"},
      {"/web", ErrorCode::Internal, kA, "hv"},
      {"db", ErrorCode::Internal, kB, "rosetta"},
      {"aaaa1", ErrorCode::Internal, kA, "hv"},
      {"aaab", ErrorCode::Internal, kC, "rosetta"},
      {"d", ErrorCode::Internal, kD, "hv"},
      {"aaaa", ErrorCode::Conflict, "", ""},  // hv and rosetta
      {"a", ErrorCode::Conflict, "", ""},
      {"zzz", ErrorCode::NotFound, "", ""},
      {"webx", ErrorCode::NotFound, "", ""},
      {"", ErrorCode::InvalidArgument, "", ""},
  };
  for (const auto& c : cases) {
    auto m = reg.find_container(c.ref);
    if (c.code == ErrorCode::Internal) {
      ASSERT_TRUE(m.has_value()) << c.ref << ": " << m.error().message;
      EXPECT_EQ(m->id, c.id) << c.ref;
      EXPECT_EQ(m->backend, c.backend) << c.ref;
    } else {
      ASSERT_FALSE(m.has_value()) << c.ref;
      EXPECT_EQ(m.error().code, c.code) << c.ref << ": " << m.error().message;
    }
  }
}

TEST(FindContainer, AmbiguityListsCandidatesWithBackends) {
  auto m = sample().find_container("aaaa");
  ASSERT_FALSE(m.has_value());
  const auto& msg = m.error().message;
  EXPECT_NE(msg.find(kA.substr(0, 12) + " (web) on hv"), std::string::npos) << msg;
  EXPECT_NE(msg.find(kB.substr(0, 12) + " (db) on rosetta"), std::string::npos) << msg;
}

TEST(FindContainer, PrefixOnOneBackendOnlyKnowsTheBackend) {
  WorkloadRegistry r;
  r.record_container({kA, "hv", ""});
  r.record_container({kB, "hv", ""});
  auto m = r.find_container("aaaa");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->backend, "hv");
  EXPECT_EQ(m->id, "");  // the engine decides which, or reports the ambiguity itself
}

TEST(FindContainer, NameBeatsIdPrefix) {
  WorkloadRegistry r;
  r.record_container({kD, "hv", ""});
  r.record_container({kB, "rosetta", "dd"});
  auto m = r.find_container("dd");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, kB);
}

TEST(Names, RenameMovesTheName) {
  auto reg = sample();
  ASSERT_TRUE(reg.rename_container(kA, "/frontend").has_value());
  EXPECT_FALSE(reg.find_container("web").has_value());
  auto m = reg.find_container("frontend");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, kA);
  EXPECT_EQ(reg.containers().at(kA).name, "frontend");
  EXPECT_EQ(reg.rename_container("nope", "x").error().code, ErrorCode::NotFound);
}

TEST(Names, HolderOfANameIsExactWithOrWithoutTheSlash) {
  auto reg = sample();
  auto h = reg.holder_of_name("/db");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->id, kB);
  EXPECT_EQ(h->backend, "rosetta");
  EXPECT_EQ(reg.holder_of_name("web")->id, kA);
  EXPECT_FALSE(reg.holder_of_name("we").has_value());              // names are never prefixes
  EXPECT_FALSE(reg.holder_of_name(kB.substr(0, 12)).has_value());  // nor ids
}

TEST(Names, ANameReusedByANewContainerMovesToIt) {
  auto reg = sample();
  const std::string fresh = "eeee" + std::string(60, '5');
  reg.record_container({fresh, "rosetta", "web"});  // the old web was auto-removed (--rm)
  auto m = reg.find_container("web");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->id, fresh);
  EXPECT_EQ(reg.containers().at(kA).name, "");
}

TEST(Forget, DropsIdNameAndExecs) {
  auto reg = sample();
  reg.record_exec("exec1", "hv", kA);
  reg.record_exec("exec2", "rosetta", kB);
  EXPECT_TRUE(reg.forget_container(kA));
  EXPECT_FALSE(reg.forget_container(kA));
  EXPECT_EQ(reg.find_container("web").error().code, ErrorCode::NotFound);
  EXPECT_EQ(reg.find_container(kA).error().code, ErrorCode::NotFound);
  EXPECT_FALSE(reg.find_exec("exec1").has_value());
  EXPECT_TRUE(reg.find_exec("exec2").has_value());
  // the prefix "aaaa" now matches one container only
  EXPECT_EQ(reg.find_container("aaaa")->id, kB);
}

TEST(Execs, ExactMatchAndEviction) {
  WorkloadRegistry reg;
  reg.record_exec("abc", "rosetta", kB);
  auto e = reg.find_exec("abc");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->backend, "rosetta");
  EXPECT_EQ(e->container_id, kB);
  EXPECT_FALSE(reg.find_exec("ab").has_value());
  for (size_t i = 0; i < WorkloadRegistry::kMaxExecs + 5; ++i)
    reg.record_exec("x" + std::to_string(i), "hv", kA);
  EXPECT_EQ(reg.exec_count(), WorkloadRegistry::kMaxExecs);
  EXPECT_FALSE(reg.find_exec("abc").has_value());  // the oldest went first
  EXPECT_TRUE(reg.find_exec("x" + std::to_string(WorkloadRegistry::kMaxExecs + 4)).has_value());
}

TEST(Reconcile, MakesOneBackendMatchItsListing) {
  auto reg = sample();
  const std::string fresh = "ffff" + std::string(60, '6');
  bool changed = reg.reconcile_backend("rosetta", {{kB, "", "/db2"}, {fresh, "", "/new"}});
  EXPECT_TRUE(changed);
  EXPECT_EQ(reg.find_container(kC).error().code, ErrorCode::NotFound);  // gone from rosetta
  EXPECT_EQ(reg.find_container("db2")->id, kB);
  EXPECT_EQ(reg.find_container("new")->backend, "rosetta");
  EXPECT_EQ(reg.find_container("web")->id, kA);  // hv untouched
  EXPECT_FALSE(reg.reconcile_backend("rosetta", {{kB, "", "/db2"}, {fresh, "", "/new"}}));
}

// A listing asked for before a create was recorded does not forget that create (the listing is
// older); what it does not list and was known before is gone.
TEST(Reconcile, KeepsRecordsNewerThanTheListing) {
  auto reg = sample();
  uint64_t listed_at = reg.mark();
  const std::string fresh = "ffff" + std::string(60, '6');
  reg.record_container({fresh, "rosetta", "/new"});
  EXPECT_TRUE(reg.reconcile_backend("rosetta", {{kB, "", "/db"}}, listed_at));
  EXPECT_EQ(reg.find_container("new")->id, fresh);
  EXPECT_EQ(reg.find_container(kC).error().code, ErrorCode::NotFound);
  // A later listing without it does forget it.
  EXPECT_TRUE(reg.reconcile_backend("rosetta", {{kB, "", "/db"}}, reg.mark()));
  EXPECT_EQ(reg.find_container("new").error().code, ErrorCode::NotFound);
}

TEST(Json, RoundTrips) {
  auto reg = sample();
  reg.record_exec("exec1", "rosetta", kB);
  auto back = WorkloadRegistry::from_json(reg.to_json());
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->to_json(), reg.to_json());
  EXPECT_EQ(back->find_container("web")->id, kA);
  EXPECT_EQ(back->find_exec("exec1")->backend, "rosetta");
}

TEST(Json, RejectsWhatItDidNotWrite) {
  for (const char* bad : {"", "[]", "{}", R"({"version":2})", R"({"version":1,"containers":{}})",
                          R"({"version":1,"containers":[{"id":"x"}]})",
                          R"({"version":1,"execs":[{"backend":"hv"}]})", "{\"version\":1"}) {
    auto r = WorkloadRegistry::from_json(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::InvalidArgument);
  }
}

}  // namespace

namespace {

TEST(Projects, FirstKnownContainerPlacesAnUndeclaredProject) {
  WorkloadRegistry r;
  EXPECT_FALSE(r.project_placement("shop").has_value());
  r.record_container({kB, "rosetta", "shop_db_1", "shop"});
  r.record_container({kD, "hv", "other", ""});
  auto p = r.project_placement("shop");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->backend, "rosetta");
  EXPECT_FALSE(p->declared);
  EXPECT_EQ(p->decided_by, "container shop_db_1");
  EXPECT_EQ(p->containers, 1u);
  EXPECT_FALSE(p->mixed);
  r.record_container({kA, "hv", "shop_web_1", "shop"});
  EXPECT_TRUE(r.project_placement("shop")->mixed);
  EXPECT_FALSE(r.project_placement("").has_value());
}

TEST(Projects, DeclarationWinsAndSurvivesForgettingContainers) {
  WorkloadRegistry r;
  r.declare_project({"shop", "rosetta", "service db needs linux/amd64"});
  r.record_container({kB, "rosetta", "shop_db_1", "shop"});
  auto p = r.project_placement("shop");
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(p->declared);
  EXPECT_EQ(p->reason, "service db needs linux/amd64");
  EXPECT_EQ(p->containers, 1u);
  r.forget_container(kB);
  EXPECT_EQ(r.project_placement("shop")->backend, "rosetta");
  EXPECT_TRUE(r.forget_project("shop"));
  EXPECT_FALSE(r.forget_project("shop"));
  EXPECT_FALSE(r.project_placement("shop").has_value());
}

TEST(Projects, ReconcileRebuildsPlacementFromLabels) {
  // After a kill -9 the registry file may be stale; the engines' listings (with labels) rebuild
  // where each project lives.
  WorkloadRegistry r;
  r.reconcile_backend("rosetta", {{kB, "", "/shop_db_1", "shop"}, {kC, "", "/shop_web_1", "shop"}});
  r.reconcile_backend("hv", {{kD, "", "/lonely", ""}});
  auto all = r.projects();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all.at("shop").backend, "rosetta");
  EXPECT_EQ(all.at("shop").containers, 2u);
}

TEST(Projects, JsonRoundTripKeepsDeclarationsAndLabels) {
  WorkloadRegistry r;
  r.declare_project({"shop", "rosetta", "why"});
  r.record_container({kA, "hv", "web", "blog"});
  auto back = WorkloadRegistry::from_json(r.to_json());
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_TRUE(back->project_placement("shop")->declared);
  EXPECT_EQ(back->project_placement("blog")->backend, "hv");
  EXPECT_EQ(back->to_json(), r.to_json());
}

}  // namespace
