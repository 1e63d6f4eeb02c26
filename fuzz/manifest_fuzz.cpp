// What registries and archives send: manifests, indexes, image configs, a docker-archive's
// manifest.json, a token endpoint's answer, and the route a pull takes through an index.
#include "fuzz_input.hpp"
#include "image/auth_challenge.hpp"
#include "image/manifest.hpp"
#include "image/media_types.hpp"
#include "store/docker_archive.hpp"
#include "store/prewarm.hpp"

using namespace twinbox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in = fuzz::as_text(data, size);
  (void)image::parse_manifest(in);
  for (auto mt : {image::kOciIndex, image::kOciManifest, image::kDockerManifestList,
                  image::kDockerManifest, image::kDockerSchema1}) {
    (void)image::parse_manifest(in, mt);
  }
  (void)image::parse_index(in);
  (void)image::parse_image_manifest(in);
  (void)image::parse_image_config(in);
  (void)image::parse_token_response(in);
  (void)store::parse_docker_archive_manifest(in);
  (void)store::parse_prewarm_list(in);
  return 0;
}
