#include "api/docker_json.hpp"

namespace twinbox::api {

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string error_body(std::string_view message) {
  Json j;
  j["message"] = std::string(message);
  return dump_json(j) + "\n";
}

std::optional<std::string> json_string(const Json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<int64_t> json_int(const Json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find(std::string(key));
  if (it == j.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<std::string> create_body_platform(std::string_view body) {
  auto j = Json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  if (auto p = json_string(j, "platform")) return p;
  return json_string(j, "Platform");
}

Result<std::string> add_create_labels(std::string_view body, const Labels& labels) {
  auto j = Json::parse(body.empty() ? std::string_view("{}") : body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ErrorCode::InvalidArgument,
                      "container create: the request body is not a JSON object");
  auto it = j.find("Labels");
  if (it == j.end() || it->is_null()) {
    j["Labels"] = Json::object();
  } else if (!it->is_object()) {
    return make_error(ErrorCode::InvalidArgument,
                      "container create: \"Labels\" must be an object of strings");
  }
  for (const auto& [k, v] : labels) j["Labels"][k] = v;
  return dump_json(j);
}

Labels routing_labels(std::string_view backend, std::string_view translator,
                      std::string_view platform, std::string_view reason) {
  return {
      {"io.twinbox.backend", std::string(backend)},
      {"io.twinbox.translator", std::string(translator.empty() ? "none" : translator)},
      {"io.twinbox.platform", std::string(platform)},
      {"io.twinbox.route.reason", std::string(reason)},
  };
}

}  // namespace twinbox::api
