#pragma once
// Docker API JSON handled by twinbox itself, pure: error bodies, the platform field and labels
// of a container-create body. Parsing never throws (json::parse(s, nullptr, false)).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace twinbox::api {

// Key order is kept so rewritten bodies read like the client's.
using Json = nlohmann::ordered_json;

// Serializes without throwing (invalid UTF-8 is replaced).
std::string dump_json(const Json& j);
// Docker's error body: {"message":"..."}.
std::string error_body(std::string_view message);

// The "platform" (or "Platform") string field of a create body, if any.
std::optional<std::string> create_body_platform(std::string_view body);

using Labels = std::vector<std::pair<std::string, std::string>>;

// Adds `labels` to the create body's Labels object (creating it when absent or null; twinbox's
// labels replace same-named ones). InvalidArgument when the body is not a JSON object or its
// Labels is neither an object nor null.
Result<std::string> add_create_labels(std::string_view body, const Labels& labels);

// The labels twinbox puts on every container it creates.
Labels routing_labels(std::string_view backend, std::string_view translator,
                      std::string_view platform, std::string_view reason);

// Reads a string/integer field without throwing; nullopt when missing or of another type.
std::optional<std::string> json_string(const Json& j, std::string_view key);
std::optional<int64_t> json_int(const Json& j, std::string_view key);

}  // namespace twinbox::api
