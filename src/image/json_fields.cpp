#include "image/json_fields.hpp"

#include <limits>

#include "util/json.hpp"

namespace twinbox::image::detail {

Error field_error(std::string_view path, std::string_view what) {
  return make_error(ErrorCode::InvalidArgument, std::string(path) + ": " + std::string(what));
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

Result<json> parse_json_object(std::string_view text, std::string_view what) {
  if (json_nesting_exceeds(text))
    return make_error(ErrorCode::InvalidArgument, std::string(what) + " nests deeper than " +
                                                      std::to_string(kMaxJsonDepth) +
                                                      " levels: refused");
  json j = parse_json(text);
  if (j.is_discarded()) {
    return make_error(ErrorCode::InvalidArgument, std::string(what) + " is not valid JSON");
  }
  if (!j.is_object()) {
    return make_error(ErrorCode::InvalidArgument,
                      std::string(what) + " is JSON but not an object (" + j.type_name() + ")");
  }
  return j;
}

namespace {

const json* find(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

Result<std::string> get_string(const json& obj, const char* key, std::string_view path,
                               bool required) {
  const json* v = find(obj, key);
  std::string p = child_path(path, key);
  if (!v) {
    if (required) return field_error(p, "missing");
    return std::string();
  }
  if (!v->is_string())
    return field_error(p, std::string("expected a string, got ") + v->type_name());
  return v->get<std::string>();
}

Result<int64_t> get_int(const json& obj, const char* key, std::string_view path, bool required,
                        int64_t fallback) {
  const json* v = find(obj, key);
  std::string p = child_path(path, key);
  if (!v) {
    if (required) return field_error(p, "missing");
    return fallback;
  }
  if (!v->is_number_integer()) {
    return field_error(p, std::string("expected an integer, got ") + v->type_name() +
                              (v->is_structured() ? "" : " " + v->dump()));
  }
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return field_error(p, "integer " + v->dump() + " is out of range");
  }
  return v->get<int64_t>();
}

Result<Digest> get_digest(const json& obj, const char* key, std::string_view path) {
  TRY_ASSIGN(std::string s, get_string(obj, key, path, true));
  auto d = Digest::parse(s);
  if (!d) return field_error(child_path(path, key), d.error().message);
  return d;
}

Result<std::vector<std::string>> get_string_array(const json& obj, const char* key,
                                                  std::string_view path) {
  std::vector<std::string> out;
  const json* v = find(obj, key);
  std::string p = child_path(path, key);
  if (!v) return out;
  if (!v->is_array())
    return field_error(p, std::string("expected an array, got ") + v->type_name());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      return field_error(index_path(p, i), std::string("expected a string, got ") + e.type_name());
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> get_string_map(const json& obj, const char* key,
                                                          std::string_view path) {
  std::map<std::string, std::string> out;
  const json* v = find(obj, key);
  std::string p = child_path(path, key);
  if (!v) return out;
  if (!v->is_object()) {
    return field_error(p, std::string("expected an object, got ") + v->type_name());
  }
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it.value().is_string()) {
      return field_error(p + "[\"" + it.key() + "\"]",
                         std::string("expected a string, got ") + it.value().type_name());
    }
    out.emplace(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace twinbox::image::detail
