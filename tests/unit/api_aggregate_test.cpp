// Answers built from both engines: /info, /version, merged lists, the status document.
#include <gtest/gtest.h>

#include "api/aggregate.hpp"
#include "api/docker_json.hpp"
#include "test_data.hpp"

using namespace twinbox::api;

namespace {

std::string data(const std::string& name) {
  std::string text = read_test_data("api/" + name);
  EXPECT_FALSE(text.empty()) << name;
  return text;
}

BackendStatus status(const std::string& name, BackendState state, std::string detail = "") {
  BackendStatus s;
  s.name = name;
  s.state = state;
  s.vm_arch = "arm64";
  s.native = "linux/arm64";
  s.translated = name == "hv" ? "" : "linux/amd64";
  s.accelerator = "tcg";
  s.translator = name == "hv" ? "none" : "qemu-x86_64 (binfmt POCF)";
  s.libvirt_uri = "qemu:///embed?root=/x";
  s.detail = std::move(detail);
  s.boot_seconds = 11.5;
  return s;
}

const std::string kHvLabel =
    "io.twinbox.backend.hv=state=running arch=arm64 native=linux/arm64 translated=none "
    "accelerator=tcg "
    "translator=none engine=none";
const std::string kRosettaLabel =
    "io.twinbox.backend.rosetta=state=running arch=arm64 native=linux/arm64 translated=linux/amd64 "
    "accelerator=tcg "
    "translator=qemu-x86_64 (binfmt POCF) engine=none";

TEST(BackendLabel, SaysStateArchPlatformAcceleratorTranslator) {
  EXPECT_EQ(backend_label(status("hv", BackendState::Running)), kHvLabel);
  EXPECT_EQ(backend_label(status("rosetta", BackendState::Running)), kRosettaLabel);
}

TEST(BackendLabel, NamesTheEngineVersionOnceKnown) {
  auto s = status("hv", BackendState::Running);
  s.engine_version = "26.1.5";
  s.engine_api_version = "1.45";
  auto label = backend_label(s);
  EXPECT_EQ(label.substr(label.find(" engine=")), " engine=26.1.5 (API 1.45)");
}

TEST(AggregateVersion, SaysTheCommonApiVersionAndEachEnginesVersion) {
  auto hv = status("hv", BackendState::Running);
  hv.engine_version = "26.1.5";
  hv.engine_api_version = "1.45";
  auto ro = status("rosetta", BackendState::Running);
  ro.engine_version = "20.10.24";
  ro.engine_api_version = "1.41";
  auto out = Json::parse(
      aggregate_version({hv, ro}, {{"hv", R"({"Version":"26.1.5","ApiVersion":"1.45"})", ""}},
                        "0.1", "1.41"),
      nullptr, false);
  EXPECT_EQ(out["ApiVersion"], "1.41");  // the lower of the two: any client must reach both
  EXPECT_EQ(out["Version"], "26.1.5");
  auto twinbox = out["Components"].back();
  EXPECT_EQ(twinbox["Name"], "twinbox");
  EXPECT_NE(twinbox["Details"]["hv"].get<std::string>().find("Docker 26.1.5 (API 1.45)"),
            std::string::npos);
  EXPECT_NE(twinbox["Details"]["rosetta"].get<std::string>().find("Docker 20.10.24 (API 1.41)"),
            std::string::npos);
}

TEST(AggregateInfo, BothRunning) {
  auto out = Json::parse(aggregate_info({status("hv", BackendState::Running),
                                         status("rosetta", BackendState::Running)},
                                        {{"hv", data("engine_info_hv.json"), ""},
                                         {"rosetta", data("engine_info_rosetta.json"), ""}}),
                         nullptr, false);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["Name"], "twinbox");
  EXPECT_EQ(out["ID"], "HVID:AAAA");  // hv is the base
  EXPECT_EQ(out["Containers"], 5);
  EXPECT_EQ(out["ContainersRunning"], 3);
  EXPECT_EQ(out["ContainersPaused"], 1);
  EXPECT_EQ(out["ContainersStopped"], 2);
  EXPECT_EQ(out["Images"], 9);
  EXPECT_EQ(out["OperatingSystem"], "twinbox dual-stack (Debian GNU/Linux 12 (bookworm) on hv)");
  EXPECT_EQ(out["Labels"],
            Json::parse(R"(["site=lab",")" + kHvLabel + R"(",")" + kRosettaLabel +
                        R"x(","io.twinbox.host-profile=apple-silicon (hv: linux/arm64; )x"
                        R"x(rosetta: linux/arm64, linux/amd64 (translated))",)x"
                        R"x("io.twinbox.builds=BuildKit builds one platform per build, in the VM )x"
                        R"x(of that platform: no platform -> hv, linux/arm64 -> hv, )x"
                        R"x(linux/amd64 -> rosetta"])x"));
  EXPECT_EQ(out["Warnings"], Json::parse(R"(["WARNING: No swap limit support"])"));
  EXPECT_EQ(out["Driver"], "overlay2");  // everything else is hv's
}

TEST(AggregateInfo, RosettaDownIsAWarningNotAFailure) {
  auto out = Json::parse(
      aggregate_info({status("hv", BackendState::Running),
                      status("rosetta", BackendState::Starting, "booting (engine not answering)")},
                     {{"hv", data("engine_info_hv.json"), ""}, {"rosetta", std::nullopt, "x"}}),
      nullptr, false);
  EXPECT_EQ(out["Containers"], 3);
  EXPECT_EQ(out["Images"], 4);
  bool found = false;
  for (const auto& w : out["Warnings"])
    found = found || w == "WARNING: twinbox backend rosetta is not running (state: starting): "
                          "booting (engine not answering); its containers and images are not "
                          "counted";
  EXPECT_TRUE(found) << out["Warnings"].dump();
  EXPECT_EQ(
      out["Labels"][2].get<std::string>().rfind("io.twinbox.backend.rosetta=state=starting ", 0),
      0u);
}

TEST(AggregateInfo, OnlyRosettaUpUsesItAsBase) {
  auto out = Json::parse(aggregate_info({status("hv", BackendState::Failed, "kernel panic"),
                                         status("rosetta", BackendState::Running)},
                                        {{"hv", std::nullopt, "not running"},
                                         {"rosetta", data("engine_info_rosetta.json"), ""}}),
                         nullptr, false);
  EXPECT_EQ(out["ID"], "ROSID:BBBB");
  EXPECT_EQ(out["OperatingSystem"],
            "twinbox dual-stack (Debian GNU/Linux 12 (bookworm) on rosetta)");
  EXPECT_EQ(out["Labels"].size(), 4u);  // rosetta's Labels was null: two backends, profile, builds
  EXPECT_EQ(out["Warnings"].size(), 1u);
}

TEST(AggregateInfo, SaysWhereAddressSpaceRandomisationIsOff) {
  auto hv = status("hv", BackendState::Running);
  hv.aslr = false;
  auto out = Json::parse(aggregate_info({hv, status("rosetta", BackendState::Running)},
                                        {{"hv", data("engine_info_hv.json"), ""},
                                         {"rosetta", data("engine_info_rosetta.json"), ""}}),
                         nullptr, false);
  std::vector<std::string> aslr;
  for (const auto& l : out["Labels"])
    if (l.get<std::string>().find("aslr=") != std::string::npos) aslr.push_back(l);
  ASSERT_EQ(aslr.size(), 1u) << out["Labels"].dump();
  EXPECT_EQ(aslr[0].rfind("io.twinbox.guest-aslr=off in hv (TCG: ", 0), 0u) << aslr[0];
  size_t backends = 0;  // as a client counts them
  for (const auto& l : out["Labels"])
    backends += l.get<std::string>().rfind("io.twinbox.backend.", 0) == 0 ? 1 : 0;
  EXPECT_EQ(backends, 2u);
}

TEST(AggregateInfo, BothDownStillAnswers) {
  auto out = Json::parse(
      aggregate_info(
          {status("hv", BackendState::Starting), status("rosetta", BackendState::Stopped)}, {}),
      nullptr, false);
  EXPECT_EQ(out["Name"], "twinbox");
  EXPECT_EQ(out["OSType"], "linux");
  EXPECT_EQ(out["Containers"], 0);
  EXPECT_EQ(out["OperatingSystem"], "twinbox dual-stack (no engine running)");
  EXPECT_EQ(out["Labels"].size(), 4u);
  EXPECT_EQ(out["Warnings"].size(), 2u);
}

TEST(AggregateInfo, RunningButSilentEngineIsNamed) {
  auto out = Json::parse(aggregate_info({status("hv", BackendState::Running)},
                                        {{"hv", std::nullopt, "connect: refused"}}),
                         nullptr, false);
  EXPECT_EQ(out["Warnings"][0],
            "WARNING: twinbox backend hv did not answer /info: connect: refused");
}

TEST(AggregateVersion, DecoratesHvsVersion) {
  auto out = Json::parse(aggregate_version({status("hv", BackendState::Running),
                                            status("rosetta", BackendState::Starting)},
                                           {{"hv", data("engine_version_hv.json"), ""}}, "0.1.0"),
                         nullptr, false);
  EXPECT_EQ(out["Platform"]["Name"], "twinbox dual-stack (hv + rosetta)");
  EXPECT_EQ(out["Version"], "20.10.24+dfsg1");
  EXPECT_EQ(out["ApiVersion"], "1.41");
  ASSERT_EQ(out["Components"].size(), 3u);
  const auto& tb = out["Components"][2];
  EXPECT_EQ(tb["Name"], "twinbox");
  EXPECT_EQ(tb["Version"], "0.1.0");
  EXPECT_EQ(tb["Details"]["hv"], "running (native linux/arm64)");
  EXPECT_EQ(tb["Details"]["rosetta"],
            "starting (native linux/arm64; linux/amd64 translated by qemu-x86_64 (binfmt POCF))");
}

TEST(AggregateVersion, SynthesizedWhenNoEngineAnswers) {
  auto out = Json::parse(aggregate_version({status("hv", BackendState::Starting)}, {}, "0.1.0"),
                         nullptr, false);
  EXPECT_EQ(out["ApiVersion"], "1.41");
  EXPECT_EQ(out["MinAPIVersion"], "1.12");
  EXPECT_EQ(out["Os"], "linux");
  EXPECT_EQ(out["Arch"], "arm64");
  EXPECT_EQ(out["Components"][0]["Name"], "twinbox");
}

TEST(MergeLists, NewestFirstAcrossEngines) {
  std::vector<EngineReply> replies = {{"hv", data("containers_hv.json"), ""},
                                      {"rosetta", data("containers_rosetta.json"), ""}};
  auto out = Json::parse(merge_lists(replies, 0), nullptr, false);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["Names"][0], "/web");
  EXPECT_EQ(out[1]["Names"][0], "/amd");
  EXPECT_EQ(out[2]["Image"], "redis");
  auto limited = Json::parse(merge_lists(replies, 2), nullptr, false);
  EXPECT_EQ(limited.size(), 2u);
}

TEST(MergeLists, SkipsMissingAndBrokenReplies) {
  auto out = Json::parse(merge_lists({{"hv", std::nullopt, "down"},
                                      {"rosetta", std::string("{\"message\":\"x\"}"), ""},
                                      {"third", data("containers_rosetta.json"), ""}},
                                     0),
                         nullptr, false);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(merge_lists({}, 0), "[]");
}

// Issue 19: prune and system df went to hv only; rosetta's stopped containers were never pruned.
TEST(MergePrune, ListsJoinedWithoutRepeatsSpaceSummedNullKept) {
  std::vector<EngineReply> replies = {
      {"hv", std::string(R"({"ContainersDeleted":["a1"],"SpaceReclaimed":10})"), ""},
      {"rosetta", std::string(R"({"ContainersDeleted":["b1","b2"],"SpaceReclaimed":32})"), ""},
      {"down", std::nullopt, "not running"}};
  EXPECT_EQ(merge_prune(replies), R"({"ContainersDeleted":["a1","b1","b2"],"SpaceReclaimed":42})");
  // Networks share names across the VMs; nothing deleted anywhere stays null, as dockerd says.
  EXPECT_EQ(merge_prune({{"hv", std::string(R"({"NetworksDeleted":["n"]})"), ""},
                         {"rosetta", std::string(R"({"NetworksDeleted":["n"]})"), ""}}),
            R"({"NetworksDeleted":["n"]})");
  EXPECT_EQ(
      merge_prune({{"hv", std::string(R"({"ImagesDeleted":null,"SpaceReclaimed":0})"), ""},
                   {"rosetta", std::string(R"({"ImagesDeleted":null,"SpaceReclaimed":0})"), ""}}),
      R"({"ImagesDeleted":null,"SpaceReclaimed":0})");
  EXPECT_EQ(
      merge_prune(
          {{"hv", std::string(R"({"ImagesDeleted":null,"SpaceReclaimed":0})"), ""},
           {"rosetta",
            std::string(R"({"ImagesDeleted":[{"Deleted":"sha256:x"}],"SpaceReclaimed":5})"), ""}}),
      R"({"ImagesDeleted":[{"Deleted":"sha256:x"}],"SpaceReclaimed":5})");
}

TEST(MergeSystemDf, SizesSummedListsJoinedVolumesOncePerName) {
  std::vector<EngineReply> replies = {
      {"hv", std::string(R"({"LayersSize":100,"Images":[{"Id":"i1"}],"Containers":[{"Id":"c1"}],
                             "Volumes":[{"Name":"v","UsageData":{"Size":1}}],"BuildCache":null})"),
       ""},
      {"rosetta", std::string(R"({"LayersSize":50,"Images":[{"Id":"i2"}],"Containers":[],
                                  "Volumes":[{"Name":"v"},{"Name":"w"}],"BuildCache":[{"ID":"b"}]})"),
       ""}};
  auto out = Json::parse(merge_system_df(replies));
  EXPECT_EQ(out["LayersSize"], 150);
  EXPECT_EQ(out["Images"].size(), 2u);
  EXPECT_EQ(out["Containers"].size(), 1u);
  ASSERT_EQ(out["Volumes"].size(), 2u);
  EXPECT_EQ(out["Volumes"][0]["UsageData"]["Size"], 1);  // hv's first
  EXPECT_EQ(out["BuildCache"].size(), 1u);
}

TEST(RepoDigests, AddedToListedImagesAfterTheEnginesOwnWithoutDuplicates) {
  RepoDigests known{{"sha256:aaa", {"busybox@sha256:111", "127.0.0.1:5000/tb/multi@sha256:222"}}};
  std::string listing = R"([{"Id":"sha256:aaa","RepoTags":["busybox:latest"],"RepoDigests":null},
                            {"Id":"sha256:bbb","RepoDigests":["x@sha256:9"]},
                            {"Id":"sha256:aaa","RepoDigests":["busybox@sha256:111"]},
                            "not an image"])";
  auto j = Json::parse(with_repo_digests(listing, known));
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[0]["RepoDigests"],
            Json::parse(R"(["busybox@sha256:111","127.0.0.1:5000/tb/multi@sha256:222"])"));
  EXPECT_EQ(j[0]["RepoTags"], Json::parse(R"(["busybox:latest"])"));
  EXPECT_EQ(j[1]["RepoDigests"], Json::parse(R"(["x@sha256:9"])"));  // not in the store
  EXPECT_EQ(j[2]["RepoDigests"],
            Json::parse(R"(["busybox@sha256:111","127.0.0.1:5000/tb/multi@sha256:222"])"));
  EXPECT_EQ(j[3], "not an image");
}

TEST(RepoDigests, AddedToOneInspectedImage) {
  RepoDigests known{{"sha256:aaa", {"busybox@sha256:111"}}};
  auto j = Json::parse(with_repo_digests(R"({"Id":"sha256:aaa","RepoDigests":[]})", known));
  EXPECT_EQ(j["RepoDigests"], Json::parse(R"(["busybox@sha256:111"])"));
  auto none = Json::parse(with_repo_digests(R"({"Id":"sha256:ccc"})", known));
  EXPECT_FALSE(none.contains("RepoDigests"));
}

TEST(RepoDigests, BodiesThatAreNotImagesPassUnchanged) {
  RepoDigests known{{"sha256:aaa", {"busybox@sha256:111"}}};
  EXPECT_EQ(with_repo_digests("not json", known), "not json");
  EXPECT_EQ(with_repo_digests("42", known), "42");
  EXPECT_EQ(with_repo_digests(R"({"Id":"sha256:aaa"})", {}), R"({"Id":"sha256:aaa"})");
}

TEST(ContainersOfListing, TakesIdsAndPlainNames) {
  auto recs = containers_of_listing(data("containers_hv.json"));
  ASSERT_TRUE(recs.has_value());
  ASSERT_EQ(recs->size(), 2u);
  EXPECT_EQ((*recs)[0].name, "web");
  EXPECT_EQ((*recs)[1].name, "cache");  // "/web/db" is a link alias
  EXPECT_FALSE(containers_of_listing("{}").has_value());
}

TEST(StatusDocument, HasEveryBackendFieldAndTheDaemon) {
  DaemonInfo d{42, "/run/twinbox.sock", "0.1.0", "/state/workloads.json", 3, 1};
  auto out = Json::parse(status_document({status("hv", BackendState::Running),
                                          status("rosetta", BackendState::Failed, "boom")},
                                         d),
                         nullptr, false);
  EXPECT_EQ(out["daemon"]["pid"], 42);
  EXPECT_EQ(out["daemon"]["socket"], "/run/twinbox.sock");
  EXPECT_EQ(out["daemon"]["version"], "0.1.0");
  EXPECT_EQ(out["workloads"]["containers"], 3);
  const auto& r = out["backends"][1];
  for (const char* key : {"name", "state", "vm_arch", "native", "translated", "accelerator",
                          "translator", "libvirt_uri", "detail", "boot_seconds", "restarting"})
    EXPECT_TRUE(r.contains(key)) << key;
  EXPECT_EQ(r["restarting"], false);
  EXPECT_TRUE(out["daemon"]["orphans_ended"].is_array());
  EXPECT_EQ(r["native"], "linux/arm64");
  EXPECT_EQ(r["translated"], "linux/amd64");
  EXPECT_EQ(r["translator"], "qemu-x86_64 (binfmt POCF)");
  EXPECT_EQ(r["state"], "failed");
  EXPECT_EQ(r["detail"], "boom");
  EXPECT_EQ(r["boot_seconds"], 11.5);
}

}  // namespace

TEST(VolumeInUse, NamesEveryUserAndItsBackend) {
  std::vector<EngineReply> none = {{"hv", std::string("[]"), "", true},
                                   {"rosetta", std::nullopt, "not running", false}};
  EXPECT_FALSE(volume_in_use("data", none));
  std::vector<EngineReply> used = {
      {"hv", std::string("[]"), "", true},
      {"rosetta", std::string(R"([{"Id":"abc123"},{"Id":"def456"}])"), "", true}};
  auto e = volume_in_use("data", used);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, twinbox::ErrorCode::Conflict);
  EXPECT_EQ(e->message, "remove data: volume is in use - [abc123, def456] (on rosetta)");
}

TEST(NetworkSplit, RefusesOnlyMembersOnTheOtherBackend) {
  std::vector<EngineReply> ls = {
      {"hv", std::string(R"([{"Id":"h1","Names":["/api"]}])"), "", true},
      {"rosetta", std::string(R"([{"Id":"abcdef0123456789","Names":[]}])"), "", true}};
  auto e = network_split("shop", "arm", "hv", ls);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, twinbox::ErrorCode::InvalidArgument);
  EXPECT_NE(e->message.find("its members abcdef012345 run on rosetta"), std::string::npos)
      << e->message;
  EXPECT_EQ(e->message.find("api"), std::string::npos);  // hv's own member is no obstacle
  auto back = network_split("shop", "amd", "rosetta", ls);
  ASSERT_TRUE(back);
  EXPECT_NE(back->message.find("its members api run on hv"), std::string::npos) << back->message;
  EXPECT_FALSE(network_split("shop", "amd", "rosetta", {ls[1]}));
  EXPECT_FALSE(network_split("bridge", "arm", "hv", ls));
  EXPECT_FALSE(network_split("shop", "arm", "hv", {{"rosetta", std::nullopt, "down", false}}));
}

TEST(Filters, BothJsonFormsAndBadInput) {
  auto a = parse_filters(R"({"label":["a=b","c"],"all":{"true":true,"x":false}})");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ((*a)["label"], (std::vector<std::string>{"a=b", "c"}));
  EXPECT_EQ((*a)["all"], (std::vector<std::string>{"true"}));
  ASSERT_TRUE(parse_filters(""));
  EXPECT_TRUE(parse_filters("")->empty());
  EXPECT_FALSE(parse_filters("[1]"));
  EXPECT_FALSE(parse_filters(R"({"label":7})"));
}

TEST(Filters, LabelsMatchAsDockerdDoes) {
  Json labels = {{"app", "web"}, {"tier", "front"}};
  EXPECT_TRUE(labels_match(labels, {}));
  EXPECT_TRUE(labels_match(labels, {{"label", {"app", "tier=front"}}}));
  EXPECT_FALSE(labels_match(labels, {{"label", {"app=db"}}}));
  EXPECT_FALSE(labels_match(labels, {{"label!", {"app"}}}));
  EXPECT_TRUE(labels_match(labels, {{"label!", {"app=db"}}}));
  EXPECT_FALSE(labels_match(Json(), {{"label", {"app"}}}));
}

namespace {
EngineReply volumes(const std::string& backend, const std::string& list) {
  return {backend, R"({"Volumes":)" + list + R"(,"Warnings":null})", "", true};
}
const char* kAnon = R"({"com.docker.volume.anonymous":""})";
}  // namespace

TEST(VolumePrune, KeepsWhatAnyBackendUsesAndNamedUnlessAll) {
  std::string anon_a = std::string(R"({"Name":"anon-a","Labels":)") + kAnon + "}";
  std::string anon_b = std::string(R"({"Name":"anon-b","Labels":)") + kAnon + "}";
  // hv does not use shared-data, rosetta's container does; anon-a is unused on both.
  std::vector<EngineReply> unused = {
      volumes("hv", "[" + anon_a + R"(,{"Name":"shared-data","Labels":null},)" + anon_b + "]"),
      volumes("rosetta", "[" + anon_a + R"(,{"Name":"named","Labels":{"keep":"no"}}])")};
  std::vector<EngineReply> used = {volumes("hv", "[]"),
                                   volumes("rosetta", R"([{"Name":"shared-data"}])")};
  auto plan = plan_volume_prune(unused, used, {}, false);
  ASSERT_EQ(plan.size(), 2U);
  EXPECT_EQ(plan[0].name, "anon-a");
  EXPECT_EQ(plan[0].backends, (std::vector<std::string>{"hv", "rosetta"}));
  EXPECT_EQ(plan[1].name, "anon-b");
  auto all = plan_volume_prune(unused, used, {}, true);
  std::vector<std::string> names;
  for (const auto& p : all) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"anon-a", "anon-b", "named"}));
  auto labelled = plan_volume_prune(unused, used, {{"label", {"keep=no"}}}, true);
  ASSERT_EQ(labelled.size(), 1U);
  EXPECT_EQ(labelled[0].name, "named");
}
