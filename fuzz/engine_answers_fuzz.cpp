// What the guest engines answer and twinboxd merges or reads: /info and /version (aggregated),
// container and image listings (merged, RepoDigests added), a listing the workload registry is
// rebuilt from, and an image inspect's platform. A VM is not trusted to answer well-formed JSON.
#include "api/aggregate.hpp"
#include "api/docker_json.hpp"
#include "fuzz_input.hpp"
#include "util/json.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = fuzz::fields(fuzz::as_text(data, size), 2);
  std::vector<api::BackendStatus> statuses(2);
  statuses[0].name = "hv";
  statuses[0].state = api::BackendState::Running;
  statuses[1].name = "rosetta";
  statuses[1].state = api::BackendState::Running;
  std::vector<api::EngineReply> replies{{"hv", std::string(parts[0]), "", true},
                                        {"rosetta", std::string(parts.back()), "", true}};
  (void)api::aggregate_info(statuses, replies);
  (void)api::aggregate_version(statuses, replies, "0.1.0");
  (void)api::merge_lists(replies, 0);
  (void)api::merge_lists(replies, 3);
  (void)api::with_repo_digests(std::string(parts[0]),
                               {{"sha256:" + std::string(64, 'a'), {"busybox@sha256:x"}}});
  (void)api::containers_of_listing(std::string(parts[0]));
  auto j = parse_json<api::Json>(parts[0]);
  if (!j.is_discarded()) (void)api::image_inspect_platform(j);
  return 0;
}
