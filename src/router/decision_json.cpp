#include "router/decision_json.hpp"

#include "platform/reference.hpp"
#include "util/json.hpp"

namespace twinbox::router {

using json = nlohmann::json;

namespace {

constexpr std::pair<ErrorCode, const char*> kCodes[] = {
    {ErrorCode::NotFound, "NotFound"},
    {ErrorCode::Conflict, "Conflict"},
    {ErrorCode::InvalidArgument, "InvalidArgument"},
    {ErrorCode::Unavailable, "Unavailable"},
    {ErrorCode::Timeout, "Timeout"},
    {ErrorCode::Io, "Io"},
    {ErrorCode::Internal, "Internal"}};

std::string str(const json& j, const char* key) {
  auto v = j.find(key);
  return v != j.end() && v->is_string() ? v->get<std::string>() : std::string();
}

}  // namespace

const char* error_code_id(ErrorCode c) {
  for (const auto& [code, id] : kCodes)
    if (code == c) return id;
  return "Internal";
}

std::optional<ErrorCode> parse_error_code_id(std::string_view id) {
  for (const auto& [code, name] : kCodes)
    if (id == name) return code;
  return std::nullopt;
}

Explanation explain(const ExplainQuery& q, const RouteEnv& env) {
  Explanation e;
  e.image = q.image;
  e.profile = env.host().name;
  e.project = q.group.project_name;
  if (q.image_platforms) {
    e.image_platforms.emplace();
    for (const auto& p : *q.image_platforms)
      if (p.os != "unknown")  // attestation manifests
        e.image_platforms->push_back(platform::normalize(p).to_string());
  }
  if (!q.image.empty()) {
    auto ref = platform::parse_reference(q.image);
    if (!ref) {
      e.error = ref.error();
      return e;
    }
    e.image = ref->canonical();
  }
  RunRequest req;
  req.name = q.name;
  req.query_platform = q.platform;
  req.body_platform = q.body_platform;
  req.image_platforms = q.image_platforms;
  req.group = q.group;
  auto d = decide_run(req, env);
  if (d)
    e.decision = *d;
  else
    e.error = d.error();
  return e;
}

int explanation_status(const Explanation& e) {
  return e.error ? error_code_http_status(e.error->code) : 200;
}

json explanation_to_json(const Explanation& e) {
  json j = json::object();
  if (e.decision) {
    j["backend"] = e.decision->backend;
    j["translator"] = e.decision->translator;
    j["execution"] = e.decision->execution;
    j["platform"] = e.decision->platform;
    j["reason"] = e.decision->reason;
  } else if (e.error) {
    j["error"] = {{"code", error_code_id(e.error->code)},
                  {"status", error_code_http_status(e.error->code)},
                  {"message", e.error->message}};
    j["message"] = e.error->message;
  }
  j["profile"] = e.profile;
  j["image"] = {{"reference", e.image},
                {"platforms", e.image_platforms ? json(*e.image_platforms) : json(nullptr)}};
  if (!e.project.empty()) j["project"] = e.project;
  return j;
}

Result<Explanation> explanation_from_json(std::string_view text) {
  auto bad = [&](const std::string& what) {
    return make_error(ErrorCode::InvalidArgument,
                      "route explanation: " + what + " in: " + std::string(text.substr(0, 300)));
  };
  json j = parse_json<json>(text);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  Explanation e;
  e.profile = str(j, "profile");
  e.project = str(j, "project");
  if (auto im = j.find("image"); im != j.end() && im->is_object()) {
    e.image = str(*im, "reference");
    auto ps = im->find("platforms");
    if (ps != im->end() && ps->is_array()) {
      e.image_platforms.emplace();
      for (const auto& p : *ps)
        if (p.is_string()) e.image_platforms->push_back(p.get<std::string>());
    }
  }
  if (auto err = j.find("error"); err != j.end() && err->is_object()) {
    auto code = parse_error_code_id(str(*err, "code"));
    if (!code) return bad("unknown error code \"" + str(*err, "code") + "\"");
    e.error = make_error(*code, str(*err, "message"));
    return e;
  }
  if (str(j, "backend").empty()) {
    // A plain Docker error ({"message": ...}) from a daemon without the endpoint.
    if (!str(j, "message").empty()) {
      e.error = make_error(ErrorCode::Internal, str(j, "message"));
      return e;
    }
    return bad("neither \"backend\" nor \"error\"");
  }
  e.decision =
      RunDecision{str(j, "backend"), str(j, "translator"), str(j, "platform"), str(j, "reason")};
  e.decision->execution = str(j, "execution");
  if (e.decision->execution.empty())  // a twinboxd from before the field
    e.decision->execution = std::string(
        e.decision->translator == kTranslatorNone ? kExecutionNative : kExecutionTranslated);
  return e;
}

std::string explanation_text(const Explanation& e) {
  std::string out;
  if (e.decision) {
    out += "backend:    " + e.decision->backend + "\n";
    out += "runs:       " + e.decision->execution + "\n";
    out += "translator: " + e.decision->translator + "\n";
    out += "platform:   " + e.decision->platform + "\n";
    out += "reason:     " + e.decision->reason + "\n";
  } else if (e.error) {
    out += "error (" + std::to_string(error_code_http_status(e.error->code)) + " " +
           error_code_id(e.error->code) + "): " + e.error->message + "\n";
  }
  return out;
}

}  // namespace twinbox::router
