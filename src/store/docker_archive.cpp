#include "store/docker_archive.hpp"

#include <nlohmann/json.hpp>

#include "platform/reference.hpp"
#include "util/json.hpp"

namespace twinbox::store {

using json = nlohmann::json;

std::string docker_archive_manifest_json(const std::vector<DockerArchiveItem>& items) {
  json arr = json::array();
  for (const auto& it : items) {
    arr.push_back({{"Config", it.config}, {"RepoTags", it.repo_tags}, {"Layers", it.layers}});
  }
  return arr.dump();
}

Result<std::vector<DockerArchiveItem>> parse_docker_archive_manifest(std::string_view text) {
  auto bad = [](const std::string& path, const std::string& what) {
    return make_error(ErrorCode::InvalidArgument, "docker-archive " + path + ": " + what);
  };
  json doc = parse_json<json>(text);
  if (doc.is_discarded()) return bad("manifest.json", "not valid JSON");
  if (!doc.is_array()) {
    return bad("manifest.json", std::string("expected an array, got ") + doc.type_name());
  }
  std::vector<DockerArchiveItem> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& j = doc[i];
    std::string path = "manifest.json[" + std::to_string(i) + "]";
    if (!j.is_object()) return bad(path, std::string("expected an object, got ") + j.type_name());
    DockerArchiveItem item;
    auto cfg = j.find("Config");
    if (cfg == j.end() || !cfg->is_string() || cfg->get<std::string>().empty()) {
      return bad(path + ".Config", "missing or not a non-empty string");
    }
    item.config = cfg->get<std::string>();
    auto strings = [&](const char* key, bool required, std::vector<std::string>& dst) -> Status {
      auto f = j.find(key);
      if (f == j.end() || f->is_null()) {
        if (required) return bad(path + "." + key, "missing");
        return {};
      }
      if (!f->is_array()) return bad(path + "." + key, "expected an array of strings");
      for (size_t k = 0; k < f->size(); ++k) {
        if (!(*f)[k].is_string()) {
          return bad(path + "." + key + "[" + std::to_string(k) + "]", "expected a string");
        }
        dst.push_back((*f)[k].get<std::string>());
      }
      return {};
    };
    TRY(strings("RepoTags", false, item.repo_tags));
    TRY(strings("Layers", true, item.layers));
    out.push_back(std::move(item));
  }
  return out;
}

Result<std::string> docker_repo_tag(std::string_view ref) {
  auto r = platform::parse_reference(ref);
  if (!r) return r.error().context("docker-archive tag \"" + std::string(ref) + "\"");
  if (!r->digest.empty()) {
    return make_error(ErrorCode::InvalidArgument,
                      "docker-archive tag \"" + std::string(ref) +
                          "\": a digest reference cannot be a RepoTag (docker load accepts only "
                          "name:tag); pass a tagged name");
  }
  return r->familiar_name() + ":" + r->tag;
}

}  // namespace twinbox::store
