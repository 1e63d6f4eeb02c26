#pragma once
// Non-throwing field access for the image module's JSON parsers. Every error names the field by
// its path ("manifests[2].digest: ...") so a bad registry answer can be pinned down from the log.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "image/digest.hpp"
#include "util/result.hpp"

namespace twinbox::image::detail {

using json = nlohmann::json;

Error field_error(std::string_view path, std::string_view what);
std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, size_t i);

// Parses without exceptions; `what` names the document in the error ("image manifest").
Result<json> parse_json_object(std::string_view text, std::string_view what);

// Each getter: a missing key yields the fallback when !required, an error when required; a
// present key of the wrong type is always an error.
Result<std::string> get_string(const json& obj, const char* key, std::string_view path,
                               bool required);
Result<int64_t> get_int(const json& obj, const char* key, std::string_view path, bool required,
                        int64_t fallback = 0);
Result<Digest> get_digest(const json& obj, const char* key, std::string_view path);
Result<std::vector<std::string>> get_string_array(const json& obj, const char* key,
                                                  std::string_view path);
Result<std::map<std::string, std::string>> get_string_map(const json& obj, const char* key,
                                                          std::string_view path);

}  // namespace twinbox::image::detail
