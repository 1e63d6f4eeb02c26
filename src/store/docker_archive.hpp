#pragma once
// docker-archive's manifest.json (what `docker save` writes and `docker load` reads): one item per
// image with the config's path, the tags and the layer paths, in order. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace twinbox::store {

struct DockerArchiveItem {
  std::string config;                  // "<hex>.json"
  std::vector<std::string> repo_tags;  // "busybox:latest", "127.0.0.1:5000/twinbox/busybox:v1"
  std::vector<std::string> layers;     // "blobs/sha256/<hex>" or "<v1 id>/layer.tar"
};

// The manifest.json text for `items` (a JSON array, keys "Config", "RepoTags", "Layers").
std::string docker_archive_manifest_json(const std::vector<DockerArchiveItem>& items);

// Parses manifest.json. InvalidArgument naming the field ("manifest.json[0].Layers[1]") when it is
// not an array of objects with a string Config, string-array RepoTags (optional) and Layers.
Result<std::vector<DockerArchiveItem>> parse_docker_archive_manifest(std::string_view text);

// dockerd's load accepts only "name:tag" in RepoTags (it parses each with ParseNormalizedNamed and
// requires a tag). Normalizes `ref` to how `docker save` writes it ("busybox:latest",
// "127.0.0.1:5000/twinbox/busybox:latest"); a digest reference or a malformed one is refused.
Result<std::string> docker_repo_tag(std::string_view ref);

}  // namespace twinbox::store
